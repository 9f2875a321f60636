// The soak's set-up, model and churn (test/reliability/soak.hpp).
#include "test/reliability/soak.hpp"

namespace anycast::test::soak {

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
        put_record(id, a);
        count("store-add");
    }
    attachments_[id] = a;
}

// Writes attachment `a` through the store, as the CNI plugin would have.
void Soak::put_record(const std::string& id, const Attachment& a) {
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
    put_record(id, a);
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

}  // namespace anycast::test::soak
