#include "test/support/serve_lab.hpp"

#include "reconciler/metrics/metrics_scrape.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/wait_until.hpp"

#include <poll.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace anycast::test {

namespace json = boost::json;

ServeLab::ServeLab(int resync_seconds) {
    config = json::object{{"node", "worker-1"},
                          {"stateDir", state_dir()},
                          {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}},
                          {"routes", json::object{{"protocol", 241}, {"table", 241}, {"rulePriority", 1000}}},
                          {"readiness", json::object{{"source", "file"}, {"file", dir.file("pods.json")}}},
                          {"bird", json::object{{"enabled", false}}},
                          {"metrics", json::object{{"listen", ""}}},
                          {"logLevel", "debug"},
                          {"resyncSeconds", resync_seconds}};
    write_config();
    set_pods({});
}

void ServeLab::write_config() const { std::ofstream(config_path()) << json::serialize(config); }

ServePod& ServeLab::add_pod(int index) {
    ServePod pod;
    pod.name = "pod" + std::to_string(index);
    pod.ns = std::make_unique<NamedNetns>("pod");
    pod.host_end = unique_name("v");
    pod.v4 = "10.0.0." + std::to_string(10 + index);
    pod.v6 = "fd00::" + std::to_string(10 + index);
    make_link(pod);
    pods.push_back(std::move(pod));
    return pods.back();
}

void ServeLab::add_ready_pods(int n) {
    std::vector<common::PodState> states;
    for (int i = 1; i <= n; ++i) {
        const auto& pod = add_pod(i);
        write_record(pod);
        states.push_back(ready(pod));
    }
    set_pods(states);
}

void ServeLab::make_link(const ServePod& pod) {
    make_veth(pod.host_end, "eth0", pod.ns->name());
    pod.ns->exec("ip addr add " + pod.v4 + "/32 dev eth0 && ip -6 addr add " + pod.v6 + "/128 dev eth0 nodad");
    // Like Calico: the node reaches each pod by a host route on its veth.
    sh("ip route add " + pod.v4 + "/32 dev " + pod.host_end + " && ip -6 route add " + pod.v6 + "/128 dev " +
       pod.host_end);
}

namespace {

common::Record record_of(const ServePod& pod, const std::vector<std::string>& ips) {
    return RecordBuilder("k8s", "c-" + pod.name)
        .netns(pod.ns->path())
        .pod("dns", pod.name)
        .ips(ips)
        .nexthop(pod.v4, pod.host_end)
        .nexthop(pod.v6, pod.host_end)
        .created("2026-11-24T10:00:00Z")
        .build();
}

}  // namespace

void ServeLab::write_record(const ServePod& pod, const std::vector<std::string>& ips) {
    common::RecordStore(state_dir()).put(record_of(pod, ips));
}

void ServeLab::remove_record(const ServePod& pod) {
    common::RecordStore(state_dir()).remove("k8s", "c-" + pod.name, "eth0");
}

void ServeLab::set_pods(const std::vector<common::PodState>& states) const {
    json::array list;
    for (const auto& s : states) {
        list.push_back(json::object{{"namespace", s.namespace_},
                                    {"name", s.name},
                                    {"uid", s.uid},
                                    {"ready", s.ready},
                                    {"deleting", s.deleting}});
    }
    const std::string tmp = dir.file(".pods.json.tmp");
    std::ofstream(tmp) << json::serialize(list);
    sh("mv -f " + tmp + " " + dir.file("pods.json"));
}

std::unique_ptr<BackgroundProcess> ServeLab::start_serve(const std::vector<std::string>& extra) const {
    std::vector<std::string> argv = {flock_binary(), "serve", "--config", config_path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<BackgroundProcess>(argv, log_path());
}

std::string ServeLab::show(const std::string& command) {
    const auto result = sh_result(command);
    if (result.exit_code != 0 && result.err.find("FIB table does not exist") == std::string::npos) {
        throw std::runtime_error(command + ": " + result.err);
    }
    return result.exit_code == 0 ? result.out : std::string();
}

std::string ServeLab::routes() { return show("ip route show table 241") + show("ip -6 route show table 241"); }

std::string ServeLab::v4_route() { return show(std::string("ip route show table 241 ") + anycast_v4); }
std::string ServeLab::v6_route() { return show(std::string("ip -6 route show table 241 ") + anycast_v6); }

std::vector<std::string> ServeLab::hops(const std::string& destination) {
    const bool v6 = destination.find(':') != std::string::npos;
    const std::string text = show(std::string(v6 ? "ip -6" : "ip -4") + " -o route show table 241 " + destination);
    std::vector<std::string> out;
    std::istringstream words(text);
    std::string word, previous;
    while (words >> word) {
        if (previous == "via") out.push_back(word);
        previous = word;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool ServeLab::routed_via(const std::vector<const ServePod*>& via) {
    std::vector<std::string> v4, v6;
    for (const auto* pod : via) {
        v4.push_back(pod->v4);
        v6.push_back(pod->v6);
    }
    std::sort(v4.begin(), v4.end());
    std::sort(v6.begin(), v6.end());
    return hops(anycast_v4) == v4 && hops(anycast_v6) == v6;
}

bool ServeLab::wait_routed_via(const std::vector<const ServePod*>& via) const {
    return wait_until([&] { return routed_via(via); });
}

std::unique_ptr<BackgroundProcess> ServeLab::start_serving(int ready_pods, const std::vector<std::string>& extra) {
    add_ready_pods(ready_pods);
    auto serve = start_serve(extra);
    std::vector<const ServePod*> via;
    for (const auto& pod : pods) via.push_back(&pod);
    if (!wait_routed_via(via)) throw std::runtime_error("serve never routed via the ready pods; its log:\n" + log());
    return serve;
}

std::string ServeLab::log() const {
    std::ifstream in(log_path());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool ServeLab::wait_log(const std::string& text, std::size_t occurrences) const {
    return wait_until([&] {
        const std::string all = log();
        std::size_t count = 0;
        for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++count;
        return count >= occurrences;
    });
}

double scraped(const std::string& listen, const std::string& series) {
    try {
        const auto values =
            reconciler::parse_exposition(reconciler::fetch_metrics(listen, std::chrono::milliseconds(1000)));
        const auto found = values.find(series);
        return found == values.end() ? -1 : found->second;
    } catch (const std::exception&) {
        return -1;
    }
}

bool wait_scraped(const std::string& listen, const std::string& series, double expected) {
    return wait_until([&] { return scraped(listen, series) == expected; });
}

RouteEventCounter::RouteEventCounter() : monitor_(common::netlink::Monitor::open()) {}

void RouteEventCounter::drain() {
    for (;;) {
        pollfd fd{monitor_.fd(), POLLIN, 0};
        if (::poll(&fd, 1, 0) <= 0) return;
        for (const auto& event : monitor_.read_events()) {
            const auto* route = std::get_if<common::netlink::RouteEvent>(&event);
            if (route == nullptr || route->route.table != 241) continue;
            const bool add = route->kind == common::netlink::RouteEvent::Kind::added;
            (add ? added : deleted) += 1;
            seen.push_back(std::string(add ? "added " : "deleted ") + route->route.destination.to_string());
        }
    }
}

}  // namespace anycast::test
