// The soak (issue 15 item B.4): serve beside a real BIRD that peers with a second BIRD (the BIRD
// lab, test/support/bird_lab.hpp, in private namespaces), under random churn for a given time,
// with invariants checked after every round of churn. Run by test/soak.sh; usage:
//   soak_driver --minutes M [--seed N] [--kill-every SECONDS] [--settle-ms N] [--bird-settle-ms N]
//               [--keep DIR]   (DIR gets the lab's logs when a violation was seen)
//
// Churn: attachments added and removed by the real CNI plugin (ADD/DEL run as a runtime runs
// them, in the node's namespace) and through the record store (put, re-put with other
// addresses, remove); readiness flips (ready, not ready, deleting); our routes tampered with
// by hand (deleted, replaced with other hops, one hop of an IPv6 multipath route deleted);
// foreign routes added and removed (table 241 with another protocol, the main table on one of
// our destinations, protocol 241 in another table); kill -9 of serve and of the node's BIRD,
// each restarted; SIGHUP with and without a changed config.
//
// Invariants, after every round (each waited for up to a settle bound, never slept on):
//   kernel  our routes (table 241, protocol 241) == the routes the driver's own model wants;
//   bird    the node's BIRD exports over BGP, and the router installs, exactly those prefixes;
//   foreign every foreign route is still there, byte for byte;
//   serve   alive (not crashed), fds and VmRSS within a bound of its first sample.
// Prints a summary; exits 1 on any violation, 2 when the lab cannot be set up.
#include "common/store/record_store.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/wait_until.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace anycast;
using namespace anycast::test;
using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

struct Options {
    double minutes = 2;
    std::uint64_t seed = 0;
    std::chrono::milliseconds settle{10000};       // kernel == model
    std::chrono::milliseconds bird_settle{10000};  // BIRD == kernel
    // After BIRD or serve was restarted: BGP sessions come up in ~4 s and serve's reloader
    // may be in its backoff (up to 10 s) when the new BIRD starts.
    std::chrono::milliseconds restart_settle{45000};
    // Mean time between kill -9 of serve, and (independently) of BIRD: long enough for one
    // serve to live through many rounds, so its fd and memory figures mean something.
    double kill_every_seconds = 30;
    std::string keep_dir;  // where the lab's logs are copied when a violation was seen
};

constexpr int k_pods = 4;
constexpr int k_slots = 3;  // attachments per pod
constexpr int k_pool = 8;   // anycast addresses per family
const std::string k_plugin_network = "soaknet";
const std::string k_store_network = "soakstore";

std::string pool_address(int i) {
    return i < k_pool ? fmt::format("10.255.60.{}", i + 1) : fmt::format("fd00:255::60:{}", i - k_pool + 1);
}
std::string with_length(const std::string& address) {
    if (address.find('/') != std::string::npos) return address;
    return address + (address.find(':') != std::string::npos ? "/128" : "/32");
}

// destination ("10.255.60.1/32") → next hops ("10.1.1.2@n-p1"), sorted.
using RouteMap = std::map<std::string, std::set<std::string>>;

// Parses `ip -o route show` lines: the destination, then every "via X ... dev Y" pair.
RouteMap parse_routes(const std::string& text) {
    RouteMap out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::replace(line.begin(), line.end(), '\t', ' ');
        std::istringstream words(line);
        std::string destination, word, via;
        if (!(words >> destination)) continue;
        auto& hops = out[with_length(destination)];
        std::string previous;
        while (words >> word) {
            if (previous == "via") via = word;
            if (previous == "dev" && !via.empty()) hops.insert(via + "@" + word);
            previous = word;
        }
    }
    return out;
}

std::string describe(const RouteMap& routes) {
    std::string out;
    for (const auto& [destination, hops] : routes) {
        out += "  " + destination + " via";
        for (const auto& hop : hops) out += " " + hop;
        out += "\n";
    }
    return out.empty() ? "  (none)\n" : out;
}

std::set<std::string> keys(const RouteMap& routes) {
    std::set<std::string> out;
    for (const auto& [destination, hops] : routes) out.insert(destination);
    return out;
}

std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
    return out.empty() ? "(none)" : out;
}

// Prefixes at the start of `birdc show route` lines ("10.255.60.1/32  unicast [...]").
std::set<std::string> bird_prefixes(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first.rfind("10.255.", 0) == 0 || first.rfind("fd00:255:", 0) == 0) out.insert(first);
    }
    return out;
}

// The anycast destinations of an `ip route show` listing.
std::set<std::string> anycast_destinations(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first.rfind("10.255.", 0) == 0 || first.rfind("fd00:255:", 0) == 0) out.insert(with_length(first));
    }
    return out;
}

struct ProcessSample {
    long fds = -1;
    long rss_kib = -1;
};

ProcessSample sample_process(pid_t pid) {
    ProcessSample sample;
    if (DIR* dir = ::opendir(fmt::format("/proc/{}/fd", pid).c_str())) {
        sample.fds = 0;
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.') ++sample.fds;
        }
        ::closedir(dir);
    }
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) sample.rss_kib = std::stol(line.substr(6));
    }
    return sample;
}

// Per serve process: its first sample (after its first converged round) and the latest.
struct Instance {
    pid_t pid = -1;
    ProcessSample first, last, max;
    int samples = 0;
    Clock::time_point started;
};

struct Attachment {
    int pod = 0;
    bool via_plugin = false;
    std::set<int> addresses;  // pool indexes
};

struct PodModel {
    bool ready = true;
    bool deleting = false;
    bool eligible() const { return ready && !deleting; }
};

struct ForeignRoute {
    std::string show;      // the `ip` command that prints it
    std::string expected;  // what it printed right after it was added
    std::string remove;
};

class Soak {
public:
    explicit Soak(Options options) : options_(options), random_(options.seed) {}
    int run();

private:
    // Set-up.
    void add_pod(int index);
    void write_config(int resync_seconds);
    void write_readiness();
    void start_serve();
    std::string node_ip(const std::string& args) const { return "ip -n " + lab_->node.name() + " " + args; }

    // The model.
    RouteMap desired() const;
    std::string hop_of(int pod, bool v6) const;

    // Churn.
    void churn_once();
    void op_add();
    void op_del();
    void op_modify();
    void op_readiness();
    void op_tamper();
    void op_foreign();
    void add_foreign();
    void op_kill_serve();
    void op_kill_bird();
    void restart_due();
    void op_sighup();
    void cni(const std::string& command, const std::string& id, const Attachment& a);
    std::set<int> random_addresses();
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }
    void count(const std::string& kind) { ++churn_[kind]; }

    // Checks.
    RouteMap kernel() const;
    std::set<std::string> include_prefixes() const;
    std::set<std::string> router_set() const;
    std::set<std::string> node_export_set() const;
    bool check_round();
    void violation(const std::string& kind, const std::string& text);
    void sample_serve();

    Options options_;
    std::mt19937_64 random_;
    std::unique_ptr<BirdLab> lab_;
    std::string state_dir_;
    std::vector<PodModel> pods_;
    std::map<std::string, Attachment> attachments_;  // by container ID
    std::vector<ForeignRoute> foreign_;
    int foreign_serial_ = 0;
    std::unique_ptr<BackgroundProcess> serve_;
    int resync_seconds_ = 60;
    bool restarted_this_round_ = false;  // serve or BIRD: the BIRD check may take longer
    Clock::time_point next_kill_serve_, next_kill_bird_;
    std::optional<Clock::time_point> serve_down_until_, bird_down_until_;
    Clock::time_point next_kill(Clock::time_point from) {
        const double mean = options_.kill_every_seconds;
        return from + std::chrono::milliseconds(static_cast<long>(
                          1000 * std::uniform_real_distribution<double>(mean / 2, mean * 1.5)(random_)));
    }
    // What the rounds checked: how big the routed set was.
    long model_routes_total_ = 0, model_hops_total_ = 0;
    std::size_t model_routes_max_ = 0, multipath_rounds_ = 0;

    // Figures.
    std::map<std::string, int> churn_;
    std::map<std::string, int> passed_, failed_;
    int iterations_ = 0;
    int violations_ = 0;
    int serve_kills_ = 0, bird_kills_ = 0, serve_crashes_ = 0;
    std::vector<Instance> instances_;
    std::vector<long> settle_ms_, bird_settle_ms_;
    std::vector<std::string> violation_log_;
};

void Soak::add_pod(int index) {
    // As BirdLab's own two: 10.1.<i>.2 / fd00:1:<i>::2 behind n-p<i> of the node.
    LabPod pod;
    const std::string idx = std::to_string(index);
    pod.ns = std::make_unique<NamedNetns>("p" + idx);
    pod.node_iface = "n-p" + idx;
    pod.v4 = "10.1." + idx + ".2";
    pod.v6 = "fd00:1:" + idx + "::2";
    sh("ip link add " + pod.node_iface + " netns " + lab_->node.name() + " type veth peer name eth0 netns " +
       pod.ns->name());
    lab_->node.exec("ip link set " + pod.node_iface + " up && ip addr add 10.1." + idx + ".1/24 dev " + pod.node_iface +
                    " && ip addr add fd00:1:" + idx + "::1/64 dev " + pod.node_iface + " nodad");
    pod.ns->exec("ip link set eth0 up && ip addr add " + pod.v4 + "/24 dev eth0 && ip addr add " + pod.v6 +
                 "/64 dev eth0 nodad && ip route add default via 10.1." + idx +
                 ".1 && ip -6 route add default via fd00:1:" + idx + "::1");
    lab_->pods.push_back(std::move(pod));
}

void Soak::write_config(int resync_seconds) {
    resync_seconds_ = resync_seconds;
    const json::object config{
        {"node", "lab-node"},
        {"stateDir", state_dir_},
        {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}},
        {"routes", json::object{{"protocol", 241}, {"table", 241}, {"rulePriority", 1000}}},
        {"readiness", json::object{{"source", "file"}, {"file", lab_->dir.file("pods.json")}}},
        {"bird",
         json::object{{"enabled", true}, {"fragment", lab_->fragment_path}, {"socket", lab_->node_bird->socket()}}},
        {"metrics", json::object{{"listen", "127.0.0.1:19660"}}},
        {"logLevel", "info"},
        // Longer than every settle bound: a missed event is a violation, not repaired by a resync.
        {"resyncSeconds", resync_seconds}};
    const std::string path = lab_->dir.file("config.json");
    std::ofstream(path + ".tmp") << json::serialize(config);
    sh("mv -f " + path + ".tmp " + path);
}

void Soak::write_readiness() {
    std::vector<LabPodState> states;
    for (const auto& pod : pods_) states.push_back({pod.ready, pod.deleting});
    lab_->set_readiness(states);
}

void Soak::start_serve() {
    serve_ = lab_->start_serve();
    Instance instance;
    instance.pid = serve_->pid();
    instance.started = Clock::now();
    instances_.push_back(instance);
}

std::string Soak::hop_of(int pod, bool v6) const {
    const auto& p = lab_->pods.at(static_cast<std::size_t>(pod));
    return (v6 ? p.v6 : p.v4) + "@" + p.node_iface;
}

RouteMap Soak::desired() const {
    RouteMap out;
    for (const auto& [id, a] : attachments_) {
        if (!pods_[static_cast<std::size_t>(a.pod)].eligible()) continue;
        for (int address : a.addresses)
            out[with_length(pool_address(address))].insert(hop_of(a.pod, address >= k_pool));
    }
    return out;
}

std::set<int> Soak::random_addresses() {
    std::set<int> out;
    const int n = 1 + pick(3);
    while (static_cast<int>(out.size()) < n) out.insert(pick(2 * k_pool));
    return out;
}

// Runs the real plugin in the node's namespace as a runtime would: the main plugin's result
// (the pod's eth0 addresses) as prevResult, the anycast IPs in runtimeConfig.
void Soak::cni(const std::string& command, const std::string& id, const Attachment& a) {
    const auto& pod = lab_->pods.at(static_cast<std::size_t>(a.pod));
    json::array ips;
    for (int address : a.addresses) ips.emplace_back(pool_address(address));
    const json::object prev{{"cniVersion", "1.0.0"},
                            {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", pod.ns->path()}}}},
                            {"ips", json::array{json::object{{"address", pod.v4 + "/24"}, {"interface", 0}},
                                                json::object{{"address", pod.v6 + "/64"}, {"interface", 0}}}}};
    const json::object config{
        {"cniVersion", "1.0.0"},
        {"name", k_plugin_network},
        {"type", "flock-anycast"},
        {"stateDir", state_dir_},
        {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}},
        {"readiness", json::object{{"source", "file"}}},  // as serve's: no annotation lookup
        {"runtimeConfig", json::object{{"anycastIPs", ips}}},
        {"prevResult", prev}};
    const auto result = run_process(
        {"ip", "netns", "exec", lab_->node.name(), flock_binary()},
        {.env = std::map<std::string, std::string>{{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                                                   {"CNI_COMMAND", command},
                                                   {"CNI_CONTAINERID", id},
                                                   {"CNI_NETNS", pod.ns->path()},
                                                   {"CNI_IFNAME", "eth0"},
                                                   {"CNI_PATH", "/usr/lib/cni"},
                                                   {"CNI_ARGS", fmt::format("IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;"
                                                                            "K8S_POD_NAME=pod-{}",
                                                                            a.pod + 1)}},
         .stdin_text = json::serialize(config),
         .timeout_seconds = 30});
    if (result.exit_code != 0) {
        violation("cni", fmt::format("CNI {} {} failed (exit {}): {}{}", command, id, result.exit_code, result.out,
                                     result.err));
    }
}

void Soak::op_add() {
    std::vector<std::string> free;
    for (int pod = 0; pod < k_pods; ++pod) {
        for (int slot = 0; slot < k_slots; ++slot) {
            const std::string id = fmt::format("soak-{}-{}", pod + 1, slot);
            if (!attachments_.contains(id)) free.push_back(id);
        }
    }
    if (free.empty()) return op_del();
    const std::string id = free[static_cast<std::size_t>(pick(static_cast<int>(free.size())))];
    Attachment a;
    a.pod = id[5] - '1';
    a.via_plugin = chance(0.5);
    a.addresses = random_addresses();
    if (a.via_plugin) {
        cni("ADD", id, a);
        count("cni-add");
    } else {
        const auto& pod = lab_->pods.at(static_cast<std::size_t>(a.pod));
        std::vector<std::string> ips;
        for (int address : a.addresses) ips.push_back(pool_address(address));
        common::RecordStore(state_dir_)
            .put(RecordBuilder(k_store_network, id)
                     .netns(pod.ns->path())
                     .pod("dns", fmt::format("pod-{}", a.pod + 1))
                     .ips(ips)
                     .nexthop(pod.v4, pod.node_iface)
                     .nexthop(pod.v6, pod.node_iface)
                     .build());
        count("store-add");
    }
    attachments_[id] = a;
}

void Soak::op_del() {
    if (attachments_.empty()) return op_add();
    auto it = attachments_.begin();
    std::advance(it, pick(static_cast<int>(attachments_.size())));
    if (it->second.via_plugin) {
        cni("DEL", it->first, it->second);
        count("cni-del");
    } else {
        common::RecordStore(state_dir_).remove(k_store_network, it->first, "eth0");
        count("store-del");
    }
    attachments_.erase(it);
}

// A record replaced in place with other addresses (the store's atomic rename over it).
void Soak::op_modify() {
    std::vector<std::string> store_ids;
    for (const auto& [id, a] : attachments_) {
        if (!a.via_plugin) store_ids.push_back(id);
    }
    if (store_ids.empty()) return op_add();
    const std::string id = store_ids[static_cast<std::size_t>(pick(static_cast<int>(store_ids.size())))];
    Attachment& a = attachments_[id];
    a.addresses = random_addresses();
    const auto& pod = lab_->pods.at(static_cast<std::size_t>(a.pod));
    std::vector<std::string> ips;
    for (int address : a.addresses) ips.push_back(pool_address(address));
    common::RecordStore(state_dir_)
        .put(RecordBuilder(k_store_network, id)
                 .netns(pod.ns->path())
                 .pod("dns", fmt::format("pod-{}", a.pod + 1))
                 .ips(ips)
                 .nexthop(pod.v4, pod.node_iface)
                 .nexthop(pod.v6, pod.node_iface)
                 .build());
    count("store-modify");
}

void Soak::op_readiness() {
    PodModel& pod = pods_[static_cast<std::size_t>(pick(k_pods))];
    switch (pick(3)) {
        case 0: pod = {true, false}; break;
        case 1: pod = {false, false}; break;
        default: pod.deleting = !pod.deleting; break;
    }
    write_readiness();
    count("readiness");
}

// Someone changes one of our routes by hand; serve must put the model's route back.
void Soak::op_tamper() {
    const RouteMap want = desired();
    if (want.empty()) return op_readiness();
    auto it = want.begin();
    std::advance(it, pick(static_cast<int>(want.size())));
    const std::string& destination = it->first;
    const bool v6 = destination.find(':') != std::string::npos;
    const std::string family = v6 ? "-6" : "-4";
    const std::string where = " table 241 proto 241";
    const int kind = pick(3);
    if (kind == 0) {
        sh_result(node_ip(family + " route del " + destination + where));
        count("tamper-delete");
    } else if (kind == 1 || !v6 || it->second.size() < 2 || serve_down_until_) {
        // Replaced by one hop the model does not want there (or, if it wants all four, by one of them).
        int pod = pick(k_pods);
        for (int i = 0; i < k_pods && it->second.contains(hop_of(pod, v6)); ++i) pod = (pod + 1) % k_pods;
        const auto& p = lab_->pods.at(static_cast<std::size_t>(pod));
        sh_result(node_ip(family + " route replace " + destination + where + " via " + (v6 ? p.v6 : p.v4) + " dev " +
                          p.node_iface + " onlink"));
        count("tamper-replace");
    } else {
        // One hop of an IPv6 multipath route deleted: BIRD loses the prefix then until serve's
        // replace puts the whole route back (bird-notes.md), so only while serve runs.
        const std::string hop = *std::next(it->second.begin(), pick(static_cast<int>(it->second.size())));
        const auto at = hop.find('@');
        sh_result(node_ip("-6 route del " + destination + where + " via " + hop.substr(0, at) + " dev " +
                          hop.substr(at + 1)));
        count("tamper-drop-hop");
    }
}

// Routes that are not ours, which serve must never touch: another protocol in our table,
// another table on one of our destinations, our protocol in another table.
void Soak::op_foreign() {
    if (!foreign_.empty() && (foreign_.size() >= 8 || chance(0.4))) {
        const auto at = foreign_.begin() + pick(static_cast<int>(foreign_.size()));
        if (sh_result(at->remove).exit_code != 0) violation("foreign", "could not remove: `" + at->remove + "`");
        foreign_.erase(at);
        count("foreign-remove");
        return;
    }
    add_foreign();
}

void Soak::add_foreign() {
    const int serial = ++foreign_serial_;
    const auto& pod = lab_->pods.at(static_cast<std::size_t>(pick(k_pods)));
    std::string route;
    std::string family = "-4";
    switch (serial % 4) {
        case 0:
            route = fmt::format("10.255.61.{} table 241 proto static via {} dev {}", serial % 250 + 1, pod.v4,
                                pod.node_iface);
            break;
        case 1:
            family = "-6";
            route = fmt::format("fd00:255::61:{:x} table 241 proto boot via {} dev {}", serial, pod.v6, pod.node_iface);
            break;
        case 2:
            route = fmt::format("{}/32 table main proto static via {} dev {}", pool_address(pick(k_pool)), pod.v4,
                                pod.node_iface);
            break;
        default:
            route = fmt::format("{}/32 table 100 proto 241 via {} dev {}", pool_address(pick(k_pool)), pod.v4,
                                pod.node_iface);
            break;
    }
    const std::string destination = route.substr(0, route.find(' '));
    const std::string table =
        route.substr(route.find(" table ") + 7, route.find(" proto ") - route.find(" table ") - 7);
    ForeignRoute foreign;
    foreign.show = node_ip(family + " route show table " + table + " " + destination);
    foreign.remove = node_ip(family + " route del " + route);
    if (sh_result(foreign.show).out.empty() && sh_result(node_ip(family + " route add " + route)).exit_code == 0) {
        foreign.expected = sh(foreign.show);
        foreign_.push_back(foreign);
        count("foreign-add");
    }
}

// Down for 0.5 to 3 s while the churn goes on (CNI ADD/DEL, readiness, tampering): the
// restarted serve's first pass must adopt what is right and repair the rest.
void Soak::op_kill_serve() {
    serve_->stop(SIGKILL);
    ++serve_kills_;
    count("serve-kill");
    serve_down_until_ = Clock::now() + std::chrono::milliseconds(500 + pick(2500));
}

// Down for 1 to 5 s while the churn goes on: serve must keep the kernel right without it (its
// reloads fail and back off), the router must lose the prefixes, and the restarted BIRD must
// announce exactly the installed set again.
void Soak::op_kill_bird() {
    lab_->node_bird->kill_hard();
    ++bird_kills_;
    count("bird-kill");
    bird_down_until_ = Clock::now() + std::chrono::milliseconds(1000 + pick(4000));
}

void Soak::restart_due() {
    if (serve_down_until_ && Clock::now() >= *serve_down_until_) {
        start_serve();
        serve_down_until_.reset();
        restarted_this_round_ = true;
    }
    if (bird_down_until_ && Clock::now() >= *bird_down_until_) {
        lab_->node_bird->start();
        bird_down_until_.reset();
        restarted_this_round_ = true;
    }
}

void Soak::op_sighup() {
    // Not while serve is still being exec'd: its main blocks SIGHUP first thing and its loop
    // takes one that came early, but before main, SIGHUP has its default action and ends it
    // (as for any daemon; systemd reloads only after READY=1).
    if (serve_down_until_) return op_readiness();
    const auto catches_sighup = [pid = serve_->pid()] {
        std::ifstream status(fmt::format("/proc/{}/status", pid));
        unsigned long long mask = 0;
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("SigBlk:", 0) == 0 || line.rfind("SigCgt:", 0) == 0) {
                mask |= std::stoull(line.substr(7), nullptr, 16);
            }
        }
        return (mask >> (SIGHUP - 1)) & 1;
    };
    if (!wait_until([&] { return catches_sighup() != 0; }, 5s)) return op_readiness();
    if (chance(0.5)) write_config(resync_seconds_ == 60 ? 61 : 60);
    ::kill(serve_->pid(), SIGHUP);
    count("sighup");
}

void Soak::churn_once() {
    // Weights: mostly records and readiness. The kills come on their own clock (run()).
    static const std::vector<std::pair<int, void (Soak::*)()>> ops = {
        {14, &Soak::op_add},   {10, &Soak::op_del},    {5, &Soak::op_modify}, {14, &Soak::op_readiness},
        {7, &Soak::op_tamper}, {4, &Soak::op_foreign}, {3, &Soak::op_sighup}};
    int total = 0;
    for (const auto& [weight, op] : ops) total += weight;
    int roll = pick(total);
    for (const auto& [weight, op] : ops) {
        if (roll < weight) return (this->*op)();
        roll -= weight;
    }
}

// The prefixes the BIRD include lists ("define FLOCK_ANYCAST_V4 = [ 10.255.60.1/32, ... ];").
std::set<std::string> Soak::include_prefixes() const {
    std::set<std::string> out;
    std::istringstream words(read_text_file(lab_->fragment_path));
    for (std::string word; words >> word;) {
        while (!word.empty() && (word.back() == ',' || word.back() == ';')) word.pop_back();
        if (word.find('/') != std::string::npos) out.insert(word);
    }
    return out;
}

RouteMap Soak::kernel() const {
    std::string text;
    for (const char* family : {"-4", "-6"}) {
        // "FIB table does not exist": no route of that family in table 241 yet.
        text += ServeLab::show(node_ip(std::string("-o ") + family + " route show table 241 proto 241"));
    }
    return parse_routes(text);
}

std::set<std::string> Soak::router_set() const {
    return anycast_destinations(lab_->router.exec("ip -4 route show proto bird; ip -6 route show proto bird"));
}

std::set<std::string> Soak::node_export_set() const {
    std::set<std::string> out;
    for (const char* protocol : {"router4", "router6"}) {
        const auto result =
            run_process({"birdc", "-s", lab_->node_bird->socket(), std::string("show route export ") + protocol});
        if (result.exit_code != 0) return {"(birdc failed)"};
        const auto prefixes = bird_prefixes(result.out);
        out.insert(prefixes.begin(), prefixes.end());
    }
    return out;
}

void Soak::violation(const std::string& kind, const std::string& text) {
    ++violations_;
    ++failed_[kind];
    const std::string line = fmt::format("VIOLATION [{}] round {}: {}", kind, iterations_, text);
    violation_log_.push_back(line);
    std::cerr << line << std::endl;
}

void Soak::sample_serve() {
    Instance& instance = instances_.back();
    const ProcessSample now = sample_process(instance.pid);
    if (now.fds < 0 || now.rss_kib < 0) return;
    if (instance.samples++ == 0) instance.first = instance.max = now;
    instance.last = now;
    instance.max.fds = std::max(instance.max.fds, now.fds);
    instance.max.rss_kib = std::max(instance.max.rss_kib, now.rss_kib);
    // Bounds: a few fds in flight (a BIRD control connection, a scrape); memory may settle
    // a little above its first converged figure, never grow with the churn.
    const long fd_bound = instance.first.fds + 8;
    const long rss_bound = instance.first.rss_kib + std::max(8L * 1024, instance.first.rss_kib / 2);
    if (now.fds > fd_bound) {
        violation("serve", fmt::format("serve pid {} holds {} fds, first {} (bound {})", instance.pid, now.fds,
                                       instance.first.fds, fd_bound));
    }
    if (now.rss_kib > rss_bound) {
        violation("serve", fmt::format("serve pid {} VmRSS {} KiB, first {} KiB (bound {})", instance.pid, now.rss_kib,
                                       instance.first.rss_kib, rss_bound));
    }
}

bool Soak::check_round() {
    const int before = violations_;
    // serve alive: a crash is a violation; it is restarted so the soak goes on.
    const bool serve_down = serve_down_until_.has_value();
    siginfo_t info{};
    const std::string how =
        ::waitid(P_PID, static_cast<id_t>(serve_->pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0
            ? (info.si_code == CLD_EXITED ? fmt::format("exit status {}", info.si_status)
                                          : fmt::format("signal {}", strsignal(info.si_status)))
            : std::string("?");
    if (serve_down) {
        // Killed on purpose; restarted by restart_due().
    } else if (!serve_->alive()) {
        ++serve_crashes_;
        violation("serve",
                  fmt::format("serve pid {} exited on its own ({}); its log's last lines:\n{}", instances_.back().pid,
                              how, sh_result("tail -n 15 " + lab_->dir.file("serve.log")).out));
        start_serve();
        restarted_this_round_ = true;
    } else {
        ++passed_["serve-alive"];
    }

    // kernel == model.
    const RouteMap want = desired();
    model_routes_total_ += static_cast<long>(want.size());
    model_routes_max_ = std::max(model_routes_max_, want.size());
    bool multipath = false;
    for (const auto& [destination, hops] : want) {
        model_hops_total_ += static_cast<long>(hops.size());
        multipath = multipath || hops.size() > 1;
    }
    if (multipath) ++multipath_rounds_;
    RouteMap have;
    const auto started = Clock::now();
    if (serve_down) {
        // Nobody converges the kernel now; BIRD must still announce exactly what it holds.
        have = kernel();
    } else if (wait_until(
                   [&] {
                       have = kernel();
                       return have == want;
                   },
                   options_.settle, 25ms)) {
        ++passed_["kernel"];
        settle_ms_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    } else {
        violation("kernel", "table 241 differs from the model after " + std::to_string(options_.settle.count()) +
                                " ms\nwanted:\n" + describe(want) + "kernel:\n" + describe(have));
    }

    // BIRD == the installed set: the model's, which the kernel now holds. While serve is down,
    // what BIRD may announce is what the kernel holds and the include (as serve left it)
    // lists: a route tampered into the kernel meanwhile is not announced until serve is back.
    // While the node's BIRD is dead the router must have nothing.
    std::set<std::string> prefixes = keys(want);
    if (serve_down) {
        const std::set<std::string> listed = include_prefixes();
        prefixes.clear();
        for (const auto& destination : keys(have)) {
            if (listed.contains(destination)) prefixes.insert(destination);
        }
    }
    std::set<std::string> exported, received;
    const auto bird_started = Clock::now();
    if (bird_down_until_) {
        if (wait_until([&] { return (received = router_set()).empty(); }, options_.bird_settle, 50ms)) {
            ++passed_["bird-dead"];
        } else {
            violation("bird-dead", "the node's BIRD is dead but the router still has " + join(received));
        }
    } else if (wait_until(
                   [&] {
                       exported = node_export_set();
                       if (exported != prefixes) return false;
                       received = router_set();
                       return received == prefixes;
                   },
                   restarted_this_round_ ? options_.restart_settle : options_.bird_settle, 50ms)) {
        ++passed_["bird"];
        bird_settle_ms_.push_back(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - bird_started).count());
    } else {
        received = router_set();
        const auto birdc = [&](const std::string& command) {
            const auto result = run_process({"birdc", "-s", lab_->node_bird->socket(), command});
            return "  $ birdc " + command + "\n" + result.out + result.err;
        };
        violation("bird",
                  fmt::format("installed {}\n  node BIRD exports {}\n  router received {}\n{}{}{}{}  include:\n{}"
                              "  kernel:\n{}",
                              join(prefixes), join(exported), join(received), birdc("show route table flock4"),
                              birdc("show route table flock6"), birdc("show route table master4"),
                              birdc("show protocols"), read_text_file(lab_->fragment_path), describe(kernel())));
    }

    // Foreign routes untouched.
    bool foreign_ok = true;
    for (const auto& foreign : foreign_) {
        const std::string now = sh_result(foreign.show).out;
        if (now != foreign.expected) {
            foreign_ok = false;
            violation("foreign", "`" + foreign.show + "` printed\n" + now + "instead of\n" + foreign.expected);
        }
    }
    if (foreign_ok) ++passed_["foreign"];

    if (!serve_down) sample_serve();
    restarted_this_round_ = false;
    return violations_ == before;
}

int Soak::run() {
    const auto begin = Clock::now();
    const auto end = begin + std::chrono::milliseconds(static_cast<long>(options_.minutes * 60000));
    PrivateNetns netns;  // even when run without unshare: nothing here touches the host's namespace
    try {
        lab_ = std::make_unique<BirdLab>();
        for (int i = 3; i <= k_pods; ++i) add_pod(i);
        state_dir_ = lab_->dir.file("state");
        pods_.assign(k_pods, PodModel{});
        write_config(60);
        write_readiness();
        // The foreign routes of the start: one of each kind.
        for (int i = 0; i < 4; ++i) add_foreign();
        std::cout << fmt::format("soak: {} foreign routes at the start", foreign_.size()) << std::endl;
        churn_.clear();
        start_serve();
    } catch (const std::exception& e) {
        std::cerr << "soak: lab set-up failed: " << e.what() << std::endl;
        return 2;
    }
    std::cout << fmt::format("soak: {:.1f} minutes, seed {}, lab {} (serve log {})", options_.minutes, options_.seed,
                             lab_->dir.path(), lab_->dir.file("serve.log"))
              << std::endl;
    auto next_progress = Clock::now() + 30s;
    int passed_rounds = 0;
    try {
        check_round();
        next_kill_serve_ = next_kill(Clock::now());
        next_kill_bird_ = next_kill(Clock::now());
        while (Clock::now() < end && !g_stop) {
            ++iterations_;
            restart_due();
            if (!serve_down_until_ && Clock::now() >= next_kill_serve_) {
                op_kill_serve();
                next_kill_serve_ = next_kill(Clock::now());
            }
            if (!bird_down_until_ && Clock::now() >= next_kill_bird_) {
                op_kill_bird();
                next_kill_bird_ = next_kill(Clock::now());
            }
            for (int i = 1 + pick(3); i > 0; --i) churn_once();
            if (check_round()) ++passed_rounds;
            if (Clock::now() >= next_progress) {
                next_progress += 30s;
                std::cout << fmt::format("soak: {:.0f} s, {} rounds, {} violations",
                                         std::chrono::duration<double>(Clock::now() - begin).count(), iterations_,
                                         violations_)
                          << std::endl;
            }
        }
        // A last round with serve and BIRD both up, whatever was down when the time ran out.
        if (serve_down_until_) serve_down_until_ = Clock::now();
        if (bird_down_until_) bird_down_until_ = Clock::now();
        restart_due();
        ++iterations_;
        if (check_round()) ++passed_rounds;
    } catch (const std::exception& e) {
        violation("driver", std::string("the driver failed: ") + e.what());
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();

    // The store after all this: no record quarantined (nothing half-written was ever read),
    // no temp file left behind by a writer.
    for (const char* sub : {"quarantine", "tmp"}) {
        const std::string left = sh_result("ls -A " + state_dir_ + "/" + sub + " 2>/dev/null").out;
        if (left.empty()) {
            ++passed_["store"];
        } else {
            violation("store", std::string(sub) + "/ holds:\n" + left);
        }
    }

    // Serve's log: errors and warnings by message.
    std::map<std::string, int> log_errors, log_warnings;
    {
        std::istringstream lines(read_text_file(lab_->dir.file("serve.log")));
        for (std::string line; std::getline(lines, line);) {
            const auto at = line.find(" msg=");
            if (at == std::string::npos) continue;
            auto msg = line.substr(at + 5);
            msg = msg[0] == '"' ? msg.substr(0, msg.find('"', 1) + 1) : msg.substr(0, msg.find(' '));
            if (line.find(" level=error ") != std::string::npos) ++log_errors[msg];
            if (line.find(" level=warn ") != std::string::npos) ++log_warnings[msg];
        }
    }
    // Temp files of the include left by a killed serve (written beside it, renamed over it).
    int include_temps = 0;
    {
        const std::string listing = sh_result("ls -a " + lab_->dir.path()).out;
        std::istringstream names(listing);
        for (std::string name; std::getline(names, name);) {
            if (name.rfind("flock-anycast.conf.tmp", 0) == 0) ++include_temps;
        }
    }

    // Summary.
    int operations = 0;
    std::string churn_text;
    for (const auto& [kind, n] : churn_) {
        operations += n;
        churn_text += fmt::format(" {}={}", kind, n);
    }
    std::string checks_text;
    int checks_passed = 0, checks_failed = 0;
    for (const char* kind : {"kernel", "bird", "bird-dead", "foreign", "serve-alive", "store"}) {
        checks_passed += passed_[kind];
        checks_text += fmt::format(" {} {}/{}", kind, passed_[kind], passed_[kind] + failed_[kind]);
    }
    for (const auto& [kind, n] : failed_) checks_failed += n;
    const auto percentile = [](std::vector<long> v, double p) -> long {
        if (v.empty()) return -1;
        std::sort(v.begin(), v.end());
        return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
    };
    const Instance& first = instances_.front();
    const Instance& last = instances_.back();
    const Instance* longest = &instances_.front();
    for (const auto& instance : instances_) {
        if (instance.samples > longest->samples) longest = &instance;
    }
    std::cout << "\n=== soak summary\n";
    std::cout << fmt::format("run: {:.1f} s ({:.1f} minutes asked), seed {}\n", elapsed, options_.minutes,
                             options_.seed);
    std::cout << fmt::format("iterations: {} rounds, {} churn operations ({} rounds clean)\n", iterations_, operations,
                             passed_rounds);
    std::cout << "churn:" << churn_text << "\n";
    std::cout << fmt::format(
        "routed set per round: mean {:.1f} routes with {:.1f} hops, max {} routes; "
        "{} rounds had a multipath route\n",
        static_cast<double>(model_routes_total_) / std::max(1, iterations_ + 1),
        static_cast<double>(model_hops_total_) / std::max(1, iterations_ + 1), model_routes_max_, multipath_rounds_);
    std::cout << fmt::format(
        "kills survived: serve {} (kill -9, restarted), bird {} (kill -9, restarted); "
        "serve crashes {}\n",
        serve_kills_, bird_kills_, serve_crashes_);
    std::cout << fmt::format("invariant checks: {} passed, {} failed;{}\n", checks_passed, checks_failed, checks_text);
    std::cout << fmt::format("settle: kernel median {} ms, p99 {} ms, max {} ms; bird median {} ms, max {} ms\n",
                             percentile(settle_ms_, 0.5), percentile(settle_ms_, 0.99), percentile(settle_ms_, 1.0),
                             percentile(bird_settle_ms_, 0.5), percentile(bird_settle_ms_, 1.0));
    std::cout << fmt::format("serve fds: first {}, last {} (max {}); VmRSS: first {} KiB, last {} KiB (max {} KiB)\n",
                             first.first.fds, last.last.fds, last.max.fds, first.first.rss_kib, last.last.rss_kib,
                             last.max.rss_kib);
    std::cout << fmt::format(
        "longest-lived serve (pid {}, {} samples, {:.0f} s): fds {} -> {} (max {}), "
        "VmRSS {} -> {} KiB (max {})\n",
        longest->pid, longest->samples,
        std::chrono::duration<double>((longest == &instances_.back() ? Clock::now() : (longest + 1)->started) -
                                      longest->started)
            .count(),
        longest->first.fds, longest->last.fds, longest->max.fds, longest->first.rss_kib, longest->last.rss_kib,
        longest->max.rss_kib);
    std::cout << fmt::format("serve instances: {}; include temp files left by killed serves: {}\n", instances_.size(),
                             include_temps);
    std::cout << "serve log errors:";
    for (const auto& [msg, n] : log_errors) std::cout << " " << msg << " x" << n << ";";
    std::cout << "\nserve log warnings:";
    for (const auto& [msg, n] : log_warnings) std::cout << " " << msg << " x" << n << ";";
    std::cout << "\n";
    for (const auto& line : violation_log_) std::cout << line << "\n";
    if (violations_ > 0 && !options_.keep_dir.empty()) {
        // The lab's directory goes with the lab: keep what explains the failure.
        sh_result("mkdir -p " + options_.keep_dir + " && cp -a " + lab_->dir.path() + "/. " + options_.keep_dir);
        std::cout << "lab files (serve.log, BIRD logs, config, pods.json, state) kept in " << options_.keep_dir << "\n";
    }
    std::cout << (violations_ == 0 ? "result: PASS" : fmt::format("result: FAIL ({} violations)", violations_))
              << std::endl;
    serve_.reset();
    lab_.reset();
    return violations_ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    options.seed = std::random_device{}();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "soak_driver: " << arg << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--minutes") {
            options.minutes = std::stod(value());
        } else if (arg == "--seed") {
            options.seed = std::stoull(value());
        } else if (arg == "--settle-ms") {
            options.settle = std::chrono::milliseconds(std::stol(value()));
        } else if (arg == "--keep") {
            options.keep_dir = value();
        } else if (arg == "--kill-every") {
            options.kill_every_seconds = std::stod(value());
        } else if (arg == "--bird-settle-ms") {
            options.bird_settle = std::chrono::milliseconds(std::stol(value()));
        } else {
            std::cerr << "usage: soak_driver --minutes M [--seed N] [--kill-every SECONDS] [--settle-ms N] "
                         "[--bird-settle-ms N] [--keep DIR]\n";
            return 2;
        }
    }
    if (::geteuid() != 0) {
        std::cerr << "soak_driver: needs root (network namespaces, BIRD)\n";
        return 2;
    }
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    return Soak(options).run();
}
