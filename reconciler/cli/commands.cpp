#include "reconciler/cli/commands.hpp"

#include "common/log.hpp"
#include "common/netlink/socket.hpp"
#include "common/config/node_config_loader.hpp"
#include "common/store/record_store.hpp"
#include "reconciler/readiness/file_source.hpp"
#include "reconciler/serve/instance_lock.hpp"
#include "reconciler/serve/ecmp_support.hpp"
#include "reconciler/serve/kernel_routes.hpp"
#include "reconciler/metrics/metrics_scrape.hpp"
#include "reconciler/bird/bird_conf_render.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "common/serve_socket_client.hpp"
#include "reconciler/cli/bird_query.hpp"
#include "reconciler/cli/drain_answer.hpp"
#include "reconciler/cli/plan.hpp"
#include "reconciler/cli/why.hpp"
#include "reconciler/readiness/readiness_factory.hpp"
#include "reconciler/serve/serve.hpp"
#include "reconciler/cli/status.hpp"

#include <fmt/format.h>
#include <csignal>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

const std::string_view k_commands_usage =
    R"(  flock-anycast serve [--config F] [--dry-run] [--withdraw-on-exit] [--drain-on-exit]
                               run the node service: records x readiness -> routes (and BIRD)
  flock-anycast plan [--config F] [--readiness-file F] [--json]
                               print the desired routes, the diff against the kernel and the
                               BIRD include; changes nothing, needs no privileges
  flock-anycast status [--config F] [--readiness-file F]
                               the running serve's figures (from metrics.listen; the kernel's
                               and the records' when serve does not answer), records, eligible
                               pods, installed routes, what is out of sync (exit 1 when out of sync)
  flock-anycast cleanup [--config F]
                               remove every route of ours and the rules for our table
  flock-anycast drain | undrain | drain-status [--config F]
                               ask the running serve to drain the node (announce with
                               GRACEFUL_SHUTDOWN, withdraw from BGP drain.gracefulSeconds later,
                               keep the kernel routes), to end a drain, or what the drain is
  flock-anycast why IP [--config F] [--readiness-file F]
                               for one anycast address: the pods that asked for it, their
                               eligibility and why, the desired and the kernel route, the
                               include and what BIRD learnt and exports
  flock-anycast bird-config [--config F] [--output F]
                               print (or write to F) the bird.conf generated from the config's
                               bgp section, for a BIRD beside serve (e.g. in the agent's pod);
                               with --output also an empty include if there is none yet, so
                               BIRD can start before serve (docs/bird.md)
)";

namespace {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Flags {
    std::map<std::string, std::string> values;
    std::set<std::string> switches;

    std::string value_or(const std::string& name, std::string fallback) const {
        const auto found = values.find(name);
        return found == values.end() ? fallback : found->second;
    }
    bool has(const std::string& name) const { return switches.contains(name); }
};

// Accepts "--name value" and "--name=value" for `valued`, "--name" for `switches`.
Flags parse_flags(const std::vector<std::string>& args, const std::set<std::string>& valued,
                  const std::set<std::string>& switches) {
    Flags flags;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        if (valued.contains(name)) {
            if (!value) {
                if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
                value = args[++i];
            }
            flags.values[name] = *value;
        } else if (switches.contains(name) && !value) {
            flags.switches.insert(name);
        } else {
            throw UsageError("unknown argument \"" + args[i] + "\"");
        }
    }
    return flags;
}

common::NodeConfig load_config(const Flags& flags) {
    common::NodeConfig config = common::load_node_config(flags.value_or("--config", common::k_default_config_path));
    if (auto level = common::log::Level{}; common::log::parse_level(config.log_level, level)) log::set_level(level);
    return config;
}

struct PodView {
    ReadinessSnapshot snapshot;
    std::string description;
};

// Reads pod states once, for plan and status: the file given on the command line, or the
// configured source run until it has synced (bounded).
PodView read_pods_once(const common::NodeConfig& config, const Flags& flags) {
    boost::asio::io_context io;
    std::unique_ptr<ReadinessSource> source;
    PodView view;
    if (flags.values.contains("--readiness-file")) {
        const std::string path = flags.values.at("--readiness-file");
        source = std::make_unique<FileSource>(io, path);
        view.description = "file " + path;
    } else {
        source = make_readiness_source(io, config);
        view.description = describe_readiness(config);
    }
    source->start([] {});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!source->synced() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(100));
        if (io.stopped()) io.restart();
    }
    if (!source->synced()) {
        source->stop();
        throw std::runtime_error("readiness source " + view.description + " has no usable pod states");
    }
    view.snapshot = source->snapshot();
    source->stop();
    return view;
}

std::vector<common::Record> read_records(const common::NodeConfig& config) {
    common::RecordStore store(config.state_dir);
    struct stat info {};
    // plan must change nothing: with no records directory there is nothing to list (and the
    // store would create it).
    if (::stat(store.records_dir().c_str(), &info) != 0) return {};
    return store.list();
}

struct Inputs {
    common::NodeConfig config;
    std::vector<common::Record> records;
    PodView pods;
    KernelView kernel;
    std::optional<std::string> kernel_unreadable;
};

Inputs gather(const Flags& flags) {
    Inputs in;
    in.config = load_config(flags);
    in.config.routes = supported_route_settings(in.config.routes);
    in.records = read_records(in.config);
    in.pods = read_pods_once(in.config, flags);
    try {
        auto socket = common::netlink::Socket::open();
        in.kernel = read_kernel(socket, in.config.routes);
    } catch (const std::exception& e) {
        in.kernel_unreadable = e.what();
        // Name every interface the records mention so the plan still shows whole routes.
        std::vector<common::netlink::Link> links;
        std::set<std::string> names;
        for (const auto& record : in.records) {
            for (const auto& hop : record.nexthops) names.insert(hop.host_iface);
        }
        int index = 0;
        for (const auto& name : names) links.push_back({--index, name, true});
        in.kernel = KernelView{{}, LinkTable(links)};
    }
    return in;
}

Plan plan_of(const Inputs& in) {
    return make_plan({in.config, in.records, in.pods.snapshot, in.pods.description, in.kernel.routes,
                      in.kernel_unreadable, in.kernel.links, in.kernel.nexthops});
}

int run_plan(const std::vector<std::string>& args) {
    const Flags flags = parse_flags(args, {"--config", "--readiness-file"}, {"--json"});
    const Inputs in = gather(flags);
    const Plan plan = plan_of(in);
    if (flags.has("--json")) {
        fmt::print("{}\n", boost::json::serialize(plan_to_json(plan)));
    } else {
        fmt::print("{}", render_plan_text(plan));
    }
    return 0;
}

// serve's own figures when its endpoint answers; otherwise what the kernel and the records
// say, and why serve was not heard.
StatusFigures status_figures(const Inputs& in, const Plan& plan) {
    const std::string& listen = in.config.metrics.listen;
    if (listen.empty()) {
        return figures_from_kernel("serve's metrics endpoint is disabled (metrics.listen is empty)", plan,
                                   in.kernel.routes);
    }
    // Loopback in practice: a serve that takes longer than this to answer is as good as absent.
    constexpr std::chrono::milliseconds timeout(2000);
    std::map<std::string, double> samples;
    try {
        samples = parse_exposition(fetch_metrics(listen, timeout));
    } catch (const std::exception& e) {
        return figures_from_kernel(fmt::format("no running serve answered ({})", e.what()), plan, in.kernel.routes);
    }
    std::optional<std::string> readyz;
    try {
        readyz = http_get(listen, "/readyz", timeout).body;
        while (!readyz->empty() && (readyz->back() == '\n' || readyz->back() == ' ')) readyz->pop_back();
    } catch (const std::exception&) {
        // Shown as unknown; the figures themselves came through.
    }
    const double unix_now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    return figures_from_serve(fmt::format("http://{}/metrics", listen), samples, readyz, unix_now);
}

int run_status(const std::vector<std::string>& args) {
    const Flags flags = parse_flags(args, {"--config", "--readiness-file"}, {});
    const Inputs in = gather(flags);
    const Plan plan = plan_of(in);
    fmt::print("{}", render_status_text(plan, in.records, in.pods.snapshot, status_figures(in, plan)));
    return plan.replace.empty() && plan.remove.empty() ? 0 : 1;
}

int run_cleanup(const std::vector<std::string>& args) {
    const Flags flags = parse_flags(args, {"--config"}, {});
    const common::NodeConfig config = load_config(flags);
    auto socket = common::netlink::Socket::open();
    const std::size_t removed = withdraw_all(socket, config.routes);
    const bool rules_ok = remove_rules(socket, config.routes);
    log::info("cleanup done", {kv("removed", removed), kv("table", config.routes.table),
                               kv("protocol", config.routes.protocol), kv("rulesRemoved", rules_ok)});
    return rules_ok ? 0 : 1;
}

// Holds `signal` blocked (pending, not lost) for a scope. SIGHUP's default action ends the
// process; until serve's loop has installed its handler, a reload request (systemd's, a
// config watcher's) must wait for it instead.
class BlockedSignal {
public:
    explicit BlockedSignal(int signal) {
        sigemptyset(&set_);
        sigaddset(&set_, signal);
        if (::pthread_sigmask(SIG_BLOCK, &set_, nullptr) != 0) throw std::runtime_error("pthread_sigmask failed");
    }
    ~BlockedSignal() { ::pthread_sigmask(SIG_UNBLOCK, &set_, nullptr); }
    BlockedSignal(const BlockedSignal&) = delete;
    BlockedSignal& operator=(const BlockedSignal&) = delete;

private:
    sigset_t set_{};
};

int run_why(const std::vector<std::string>& args) {
    const auto address =
        std::find_if(args.begin(), args.end(), [](const std::string& arg) { return !arg.starts_with("-"); });
    if (address == args.end()) throw UsageError("why needs an IP address");
    const auto ip = common::IpAddress::parse(*address);
    if (!ip) throw UsageError("not an IP address: " + *address);
    std::vector<std::string> rest(args.begin(), address);
    rest.insert(rest.end(), std::next(address), args.end());
    const Flags flags = parse_flags(rest, {"--config", "--readiness-file"}, {});
    const Inputs in = gather(flags);
    const Plan plan = plan_of(in);
    const PlanInputs inputs{in.config,        in.records,           in.pods.snapshot, in.pods.description,
                            in.kernel.routes, in.kernel_unreadable, in.kernel.links};
    WhyInputs why{inputs, plan, *ip, std::nullopt, {}, std::nullopt};
    if (in.config.bird.enabled) {
        std::ifstream include(in.config.bird.fragment);
        if (include) {
            why.include_on_disk = std::string(std::istreambuf_iterator<char>(include), {});
        } else {
            why.include_error = std::strerror(errno);
        }
        why.bird = query_bird(in.config, common::Prefix::host(*ip));
    }
    fmt::print("{}", render_why(why));
    return 0;
}

// drain, undrain, drain-status: one command on serve.sock.
int run_drain_command(std::string_view command, const std::vector<std::string>& args) {
    const Flags flags = parse_flags(args, {"--config"}, {});
    const common::NodeConfig config = load_config(flags);
    const std::string line = common::serve_socket_exchange(common::serve_socket_path(config.state_dir),
                                                           common::encode_command(command), std::chrono::seconds(5));
    const common::ServeCommandAnswer answer = common::parse_command_answer(line);
    if (!answer.ok) throw std::runtime_error("serve refused: " + answer.error);
    fmt::print("{}", render_drain_answer(answer));
    return 0;
}

int run_bird_config(const std::vector<std::string>& args) {
    const Flags flags = parse_flags(args, {"--config", "--output"}, {});
    const std::string path = flags.value_or("--config", common::k_default_config_path);
    const common::NodeConfig config = load_config(flags);
    if (!config.bgp.enabled() || config.bgp.peers.empty()) {
        throw std::runtime_error(path + ": no bgp section with peers: nothing to generate (a BIRD of your own " +
                                 "includes " + config.bird.fragment + " instead, docs/bird.md)");
    }
    const std::string text = render_bird_conf(config, path);
    const std::string output = flags.value_or("--output", "");
    if (output.empty()) {
        fmt::print("{}", text);
        return 0;
    }
    write_file_if_changed(output, text);
    // BIRD refuses to start without its include; serve replaces it at its first pass.
    struct stat existing {};
    if (::stat(config.bird.fragment.c_str(), &existing) != 0)
        write_file_if_changed(config.bird.fragment, render_bird_sets({}, render_bird_attributes(config.bgp)));
    log::info("bird.conf written", {kv("path", output), kv("include", config.bird.fragment)});
    return 0;
}

int run_serve(const std::vector<std::string>& args) {
    std::optional<BlockedSignal> hup_until_handled(SIGHUP);
    const Flags flags = parse_flags(args, {"--config"}, {"--dry-run", "--withdraw-on-exit", "--drain-on-exit"});
    ServeOptions options;
    options.config_path = flags.value_or("--config", common::k_default_config_path);
    options.dry_run = flags.has("--dry-run");
    options.withdraw_on_exit = flags.has("--withdraw-on-exit");
    options.drain_on_exit = flags.has("--drain-on-exit");
    common::NodeConfig config = load_config(flags);
    if (!config.log_file.empty()) log::log_to_file(config.log_file);
    // Held until serve returns. --dry-run changes nothing, so it may run beside the real one.
    std::optional<InstanceLock> instance;
    if (!options.dry_run) instance.emplace(config.state_dir);
    Server server(std::move(options), std::move(config));
    hup_until_handled.reset();  // the server's signal_set holds one that came early for its loop
    return server.run();
}

}  // namespace

bool is_reconciler_command(std::string_view command) {
    return command == "serve" || command == "plan" || command == "status" || command == "cleanup" ||
           command == "bird-config" || command == "why" || command == "drain" || command == "undrain" ||
           command == "drain-status";
}

int run_command(std::string_view command, const std::vector<std::string>& args) {
    try {
        if (command == "serve") return run_serve(args);
        if (command == "plan") return run_plan(args);
        if (command == "status") return run_status(args);
        if (command == "cleanup") return run_cleanup(args);
        if (command == "bird-config") return run_bird_config(args);
        if (command == "why") return run_why(args);
        if (command == "drain" || command == "undrain" || command == "drain-status") {
            return run_drain_command(command, args);
        }
        throw UsageError("unknown command");
    } catch (const UsageError& e) {
        fmt::print(stderr, "flock-anycast {}: {}; run \"flock-anycast help\"\n", command, e.what());
        return 2;
    } catch (const std::exception& e) {
        log::error(fmt::format("{} failed", command), {kv("error", e.what())});
        return 1;
    }
}

}  // namespace anycast::reconciler
