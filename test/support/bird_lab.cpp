#include "test/support/bird_lab.hpp"

#include "common/store/record_store.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/wait_until.hpp"

#include <boost/json.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace anycast::test {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("write " + path + " failed");
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

bool is_v6(const std::string& prefix) { return prefix.find(':') != std::string::npos; }

}  // namespace

std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("read " + path + ": cannot open");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

int monitor_deletions(const std::string& log, const std::string& address) {
    int count = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        // "Deleted 10.255.53.53 via 10.0.0.2 dev r-n proto bird metric 32"
        if (line.rfind("Deleted " + address + " ", 0) == 0) ++count;
    }
    return count;
}

RouteMonitorLog::RouteMonitorLog(const NamedNetns& ns, std::string log_path)
    : log_path_(std::move(log_path)), process_({"ip", "-n", ns.name(), "monitor", "route"}, log_path_) {
    // The marker is added again until the monitor reports it: `ip monitor` may subscribe only
    // after a first addition (a loaded machine), and would then never see that one.
    const bool subscribed = wait_until([&] {
        if (read_text_file(log_path_).find("192.0.2.77") != std::string::npos) return true;
        ns.exec("ip route del 192.0.2.77/32 dev lo 2>/dev/null; ip route add 192.0.2.77/32 dev lo");
        return false;
    });
    ns.exec("ip route del 192.0.2.77/32 dev lo 2>/dev/null || true");
    if (!subscribed) throw std::runtime_error("ip monitor in " + ns.name() + " never reported the marker route");
}

std::string RouteMonitorLog::stop() {
    process_.stop(SIGTERM);
    return read_text_file(log_path_);
}

std::string example_bird_config(const std::string& name, const std::string& dir, const std::string& log_name) {
    std::string text = read_text_file(std::string(FLOCK_SOURCE_DIR) + "/examples/bird/" + name);
    replace_all(text, "\"/etc/bird/", "\"" + dir + "/");
    replace_all(text, "log syslog all;", "log \"" + dir + "/" + log_name + "\" all;");
    return text;
}

std::string empty_bird_sets() { return "define FLOCK_ANYCAST_V4 = [ ];\ndefine FLOCK_ANYCAST_V6 = [ ];\n"; }

BirdDaemon::BirdDaemon(std::string netns, std::string dir, std::string name, const std::string& config_text)
    : netns_(std::move(netns)),
      socket_(dir + "/" + name + ".ctl"),
      config_(dir + "/" + name + ".conf"),
      pid_file_(dir + "/" + name + ".pid"),
      log_(dir + "/" + name + ".out") {
    write_text(config_, config_text);
}

BirdDaemon::~BirdDaemon() = default;

void BirdDaemon::start() {
    if (running()) throw std::runtime_error("BIRD " + config_ + " already running");
    process_ =
        std::make_unique<BackgroundProcess>(std::vector<std::string>{"ip", "netns", "exec", netns_, "bird", "-f", "-c",
                                                                     config_, "-s", socket_, "-P", pid_file_},
                                            log_);
    const bool up = wait_until([&] {
        int status = 0;
        if (::waitpid(process_->pid(), &status, WNOHANG) == process_->pid()) {
            throw std::runtime_error("BIRD exited at start (" + config_ + "):\n" + read_text_file(log_));
        }
        return run_process({"birdc", "-s", socket_, "show status"}).exit_code == 0;
    });
    if (!up) throw std::runtime_error("BIRD control socket " + socket_ + " never answered:\n" + read_text_file(log_));
}

void BirdDaemon::kill_hard() {
    if (process_) process_->stop(SIGKILL);
}

std::string BirdDaemon::birdc(const std::string& command) const {
    const auto result = run_process({"birdc", "-s", socket_, command});
    if (result.exit_code != 0) {
        throw std::runtime_error("birdc -s " + socket_ + " " + command + ": " + result.out + result.err);
    }
    return result.out;
}

BirdLab::BirdLab() {
    const std::string n = node.name();
    const std::string r = router.name();
    // node <-> router: 10.0.0.2 / fd00:0:0:1::2 (node) and .1 / ::1 (router), as in the
    // example configs.
    sh("ip link add n-r netns " + n + " type veth peer name r-n netns " + r);
    node.exec("ip link set n-r up && ip addr add 10.0.0.2/24 dev n-r && ip addr add fd00:0:0:1::2/64 dev n-r nodad");
    router.exec("ip link set r-n up && ip addr add 10.0.0.1/24 dev r-n && ip addr add fd00:0:0:1::1/64 dev r-n nodad");
    // The node forwards to its pods and spreads flows by 5-tuple (issue 7 item 5), and
    // consults our table first (serve makes these rules in production).
    node.exec(
        "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
        "net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1");
    node.exec("ip rule add pref 1000 lookup 241 && ip -6 rule add pref 1000 lookup 241");

    for (int i = 1; i <= 2; ++i) {
        LabPod pod;
        pod.ns = std::make_unique<NamedNetns>("p" + std::to_string(i));
        pod.node_iface = "n-p" + std::to_string(i);
        const std::string idx = std::to_string(i);
        pod.v4 = "10.1." + idx + ".2";
        pod.v6 = "fd00:1:" + idx + "::2";
        sh("ip link add " + pod.node_iface + " netns " + n + " type veth peer name eth0 netns " + pod.ns->name());
        node.exec("ip link set " + pod.node_iface + " up && ip addr add 10.1." + idx + ".1/24 dev " + pod.node_iface +
                  " && ip addr add fd00:1:" + idx + "::1/64 dev " + pod.node_iface + " nodad");
        pod.ns->exec("ip link set eth0 up && ip addr add " + pod.v4 + "/24 dev eth0 && ip addr add " + pod.v6 +
                     "/64 dev eth0 nodad && ip route add default via 10.1." + idx +
                     ".1 && ip -6 route add default via fd00:1:" + idx + "::1 && ip addr add " + anycast_v4 +
                     "/32 dev lo && ip addr add " + anycast_v6 + "/128 dev lo");
        pods.push_back(std::move(pod));
    }

    fragment_path = dir.file("flock-anycast.conf");
    write_text(fragment_path, empty_bird_sets());
    write_text(dir.file("flock.conf"), example_bird_config("flock.conf", dir.path(), "flock.log"));
    node_bird = std::make_unique<BirdDaemon>(n, dir.path(), "node",
                                             example_bird_config("node-bird.conf", dir.path(), "node.log"));
    router_bird = std::make_unique<BirdDaemon>(r, dir.path(), "router",
                                               example_bird_config("router-bird.conf", dir.path(), "router.log"));
    router_bird->start();
    node_bird->start();
    if (!wait_until([&] { return sessions_established(); })) {
        throw std::runtime_error("BGP sessions never came up:\n" + router_bird->birdc("show protocols"));
    }
}

BirdLab::~BirdLab() {
    // BIRDs first, while their namespaces still exist.
    node_bird.reset();
    router_bird.reset();
}

std::string BirdLab::router_route(const std::string& prefix) const {
    return router.exec(std::string("ip ") + (is_v6(prefix) ? "-6" : "-4") + " route show " + prefix);
}

bool BirdLab::sessions_established() const {
    const auto status = run_process({"birdc", "-s", router_bird->socket(), "show protocols"});
    if (status.exit_code != 0) return false;
    int established = 0;
    std::istringstream lines(status.out);
    for (std::string line; std::getline(lines, line);) {
        if ((line.rfind("node4 ", 0) == 0 || line.rfind("node6 ", 0) == 0) &&
            line.find("Established") != std::string::npos) {
            ++established;
        }
    }
    return established == 2;
}

std::chrono::milliseconds BirdLab::session_since(const std::string& protocol) const {
    // "node4      BGP        ---        up     2026-11-24 11:02:18.123  Established"
    std::istringstream fields(router_bird->birdc("show protocols " + protocol));
    for (std::string line; std::getline(fields, line);) {
        if (line.rfind(protocol + " ", 0) != 0) continue;
        std::istringstream words(line);
        std::string name, proto, table, state, date, time;
        words >> name >> proto >> table >> state >> date >> time;
        int hours = 0, minutes = 0;
        double seconds = 0;
        // Millisecond resolution (router-bird.conf's timeformat), or a reset within the same
        // second would go unseen.
        if (time.find('.') == std::string::npos ||
            std::sscanf(time.c_str(), "%d:%d:%lf", &hours, &minutes, &seconds) != 3) {
            throw std::runtime_error("unreadable since time \"" + time + "\" of " + protocol);
        }
        return std::chrono::milliseconds(static_cast<long long>(((hours * 60 + minutes) * 60 + seconds) * 1000));
    }
    throw std::runtime_error("no protocol " + protocol + " at the router");
}

void BirdLab::set_node_route(const std::string& prefix, const std::vector<int>& pod_indexes) {
    const std::string family = is_v6(prefix) ? "-6" : "-4";
    const std::string where = " proto " + std::to_string(protocol) + " table " + std::to_string(table);
    if (pod_indexes.empty()) {
        node.exec("ip " + family + " route del " + prefix + where);
        return;
    }
    std::string hops;
    for (int i : pod_indexes) {
        const auto& pod = pods.at(static_cast<std::size_t>(i));
        const std::string via = is_v6(prefix) ? pod.v6 : pod.v4;
        hops += (pod_indexes.size() > 1 ? " nexthop via " : " via ") + via + " dev " + pod.node_iface;
    }
    node.exec("ip " + family + " route replace " + prefix + where + hops);
}

int BirdLab::node_bird_hops(const std::string& prefix) const {
    const std::string table_name = is_v6(prefix) ? "flock6" : "flock4";
    const auto result =
        run_process({"birdc", "-s", node_bird->socket(), "show route table " + table_name + " for " + prefix + " all"});
    if (result.exit_code != 0 || result.out.find(prefix) == std::string::npos) return 0;
    int hops = 0;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("via ") != std::string::npos) ++hops;
    }
    return hops;
}

void BirdLab::prepare_serve(const std::string& metrics_listen) {
    namespace json = boost::json;
    const std::string state_dir = dir.file("state");
    common::RecordStore store(state_dir);
    for (std::size_t i = 0; i < pods.size(); ++i) {
        const auto& pod = pods[i];
        store.put(RecordBuilder("lab", "c" + std::to_string(i + 1))
                      .netns(pod.ns->path())
                      .pod("dns", "pod-" + std::to_string(i + 1))
                      .ips({anycast_v4, anycast_v6})
                      .nexthop(pod.v4, pod.node_iface)
                      .nexthop(pod.v6, pod.node_iface)
                      .created("2026-11-24T10:00:00Z")
                      .build());
    }
    set_readiness(std::vector<LabPodState>(pods.size(), LabPodState{false, false}));
    const json::object config{
        {"node", "lab-node"},
        {"stateDir", state_dir},
        {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}},
        {"routes", json::object{{"protocol", protocol}, {"table", table}, {"rulePriority", 1000}}},
        {"readiness", json::object{{"source", "file"}, {"file", dir.file("pods.json")}}},
        {"bird", json::object{{"enabled", true}, {"fragment", fragment_path}, {"socket", node_bird->socket()}}},
        {"metrics", json::object{{"listen", metrics_listen}}},
        {"resyncSeconds", 3600}};
    write_text(dir.file("config.json"), json::serialize(config));
}

void BirdLab::set_readiness(const std::vector<LabPodState>& states) const {
    boost::json::array list;
    for (std::size_t i = 0; i < states.size(); ++i) {
        list.push_back(boost::json::object{{"namespace", "dns"},
                                           {"name", "pod-" + std::to_string(i + 1)},
                                           {"uid", ""},
                                           {"ready", states[i].ready},
                                           {"deleting", states[i].deleting}});
    }
    // serve watches the file with inotify: it must never see a half-written one.
    const std::string path = dir.file("pods.json");
    write_text(path + ".tmp", boost::json::serialize(list));
    if (::rename((path + ".tmp").c_str(), path.c_str()) != 0) fail("rename " + path);
}

std::unique_ptr<BackgroundProcess> BirdLab::start_serve() const {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"ip", "netns", "exec", node.name(), flock_binary(), "serve", "--config",
                                 dir.file("config.json")},
        dir.file("serve.log"));
}

}  // namespace anycast::test
