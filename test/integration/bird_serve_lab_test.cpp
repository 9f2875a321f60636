// The BIRD lab with serve (issue 7 item 5): `flock-anycast serve` in the node namespace next
// to BIRD with the shipped configs, records for two pods, readiness from a file, and real
// UDP traffic from the router to the anycast addresses, answered by each pod's anycast-echo.
#include "common/ip_address.hpp"
#include "common/record.hpp"
#include "common/record_store.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <signal.h>

#include <fstream>
#include <sstream>

using namespace std::chrono_literals;
using namespace anycast::test;
namespace json = boost::json;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_text_atomically(const std::string& path, const std::string& text) {
    std::ofstream(path + ".tmp") << text;
    sh("mv -f " + path + ".tmp " + path);
}

std::string trim_copy(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

struct PodReadiness {
    bool ready;
    bool deleting;
};

// Lines of an `ip monitor route` log that delete `address`.
int deletions(const std::string& log, const std::string& address) {
    int count = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("Deleted ", 0) == 0 && line.find(" " + address + " ") != std::string::npos) ++count;
    }
    return count;
}

}  // namespace

TEST_CASE("serve with BIRD: only ready pods get traffic, ECMP shrink never withdraws, withdrawal when none is left",
          "[netns][bird]") {
    PrivateNetns netns;
    BirdLab lab;
    const std::string a4 = BirdLab::anycast_v4;
    const std::string a6 = BirdLab::anycast_v6;
    const std::string state_dir = lab.dir.file("state");
    const std::string pods_file = lab.dir.file("pods.json");

    auto set_pods = [&](const std::vector<PodReadiness>& states) {
        json::array list;
        for (std::size_t i = 0; i < states.size(); ++i) {
            list.push_back(json::object{{"namespace", "dns"}, {"name", "pod-" + std::to_string(i + 1)}, {"uid", ""},
                                        {"ready", states[i].ready}, {"deleting", states[i].deleting}});
        }
        write_text_atomically(pods_file, json::serialize(list));
    };
    set_pods({});
    {
        anycast::common::RecordStore store(state_dir);
        for (std::size_t i = 0; i < lab.pods.size(); ++i) {
            const auto& pod = lab.pods[i];
            anycast::common::Record record;
            record.network = "lab";
            record.container_id = "c" + std::to_string(i + 1);
            record.ifname = "eth0";
            record.netns = pod.ns->path();
            record.pod = {"dns", "pod-" + std::to_string(i + 1), ""};
            record.ips = {*anycast::common::IpAddress::parse(a4), *anycast::common::IpAddress::parse(a6)};
            record.nexthops = {{anycast::common::Family::v4, *anycast::common::IpAddress::parse(pod.v4), pod.node_iface},
                               {anycast::common::Family::v6, *anycast::common::IpAddress::parse(pod.v6), pod.node_iface}};
            record.created = "2026-11-24T10:00:00Z";
            store.put(record);
        }
    }
    const json::object config{
        {"node", "lab-node"},
        {"stateDir", state_dir},
        {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}},
        {"routes", json::object{{"protocol", 241}, {"table", 241}, {"rulePriority", 1000}}},
        {"readiness", json::object{{"source", "file"}, {"file", pods_file}}},
        {"bird", json::object{{"enabled", true}, {"fragment", lab.fragment_path}, {"socket", lab.node_bird->socket()}}},
        {"metrics", json::object{{"listen", ""}}},
        {"resyncSeconds", 3600}};
    const std::string config_path = lab.dir.file("config.json");
    std::ofstream(config_path) << json::serialize(config);

    std::vector<std::unique_ptr<BackgroundProcess>> echoes;
    for (std::size_t i = 0; i < lab.pods.size(); ++i) {
        echoes.push_back(std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"ip", "netns", "exec", lab.pods[i].ns->name(), FLOCK_ECHO_BINARY, "serve",
                                     "pod-" + std::to_string(i + 1), "5353"},
            lab.dir.file("echo.log")));
    }
    // "pod-1=12 pod-2=8" from the router, `count` requests each from a fresh source port.
    auto ask = [&](const std::string& address, int count) {
        return trim_copy(lab.router.exec(std::string(FLOCK_ECHO_BINARY) + " ask " + address + " 5353 " +
                                         std::to_string(count) + " 300"));
    };

    BackgroundProcess serve({"ip", "netns", "exec", lab.node.name(), flock_binary(), "serve", "--config", config_path},
                            lab.dir.file("serve.log"));
    INFO("serve log: " << lab.dir.file("serve.log"));

    // Step 1: no pod ready → serve renders the empty sets, nothing is announced.
    REQUIRE(wait_until([&] { return read_text(lab.fragment_path).rfind("# Written by flock-anycast", 0) == 0; }));
    CHECK(read_text(lab.fragment_path).find("define FLOCK_ANYCAST_V4 = [ ];") != std::string::npos);
    CHECK(lab.node.exec("ip route show table all proto 241; ip -6 route show table all proto 241") == "");
    CHECK_FALSE(lab.router_has(a4 + "/32"));
    CHECK_FALSE(lab.router_has(a6 + "/128"));

    // Step 2: pod-1 ready → announced; every request is answered by pod-1.
    set_pods({{true, false}, {false, false}});
    REQUIRE(wait_until([&] { return lab.router_has(a4 + "/32") && lab.router_has(a6 + "/128"); }));
    CHECK(ask(a4, 20) == "pod-1=20");
    CHECK(ask(a6, 20) == "pod-1=20");

    // Step 3: both ready → ECMP; flows from the router spread over both pods.
    set_pods({{true, false}, {true, false}});
    REQUIRE(wait_until([&] { return lab.node_bird_hops(a4 + "/32") == 2 && lab.node_bird_hops(a6 + "/128") == 2; }));
    for (const auto& address : {a4, a6}) {
        const std::string answers = ask(address, 40);
        INFO(address << ": " << answers);
        CHECK(answers.find("pod-1=") != std::string::npos);
        CHECK(answers.find("pod-2=") != std::string::npos);
        CHECK(answers.find("none") == std::string::npos);
        CHECK(answers.find("unreachable") == std::string::npos);
    }

    // Step 4: pod-2 being deleted → back to one hop, never withdrawn at the router, and
    // pod-2 gets no new flows.
    {
        const std::string monitor_log = lab.dir.file("router-monitor.log");
        BackgroundProcess monitor({"ip", "-n", lab.router.name(), "monitor", "route"}, monitor_log);
        lab.router.exec("ip route add 192.0.2.77/32 dev r-n");
        REQUIRE(wait_until([&] { return read_text(monitor_log).find("192.0.2.77") != std::string::npos; }));
        set_pods({{true, false}, {true, true}});
        REQUIRE(wait_until([&] { return lab.node_bird_hops(a4 + "/32") == 1 && lab.node_bird_hops(a6 + "/128") == 1; }));
        CHECK(ask(a4, 20) == "pod-1=20");
        CHECK(ask(a6, 20) == "pod-1=20");
        monitor.stop(SIGTERM);
        const std::string log = read_text(monitor_log);
        INFO(log);
        CHECK(deletions(log, a4) == 0);
        CHECK(deletions(log, a6) == 0);
    }

    // Step 5: pod-1 not ready either → withdrawn; nobody answers.
    set_pods({{false, false}, {true, true}});
    REQUIRE(wait_until([&] { return !lab.router_has(a4 + "/32") && !lab.router_has(a6 + "/128"); }));
    CHECK(ask(a4, 5).find("pod-") == std::string::npos);
    CHECK(ask(a6, 5).find("pod-") == std::string::npos);

    // Step 6: BIRD killed → our kernel routes stay and serve keeps running; restarted → the
    // router learns the routes again.
    set_pods({{true, false}, {true, false}});
    REQUIRE(wait_until([&] { return lab.router_has(a4 + "/32") && lab.router_has(a6 + "/128"); }));
    lab.node_bird->kill_hard();
    REQUIRE(wait_until([&] { return !lab.router_has(a4 + "/32"); }));
    set_pods({{true, false}, {false, false}});  // a change while BIRD is away
    REQUIRE(wait_until([&] { return lab.node.exec("ip route show table 241 " + a4).find("nexthop") == std::string::npos; }));
    CHECK(lab.node.exec("ip route show table 241 " + a4) != "");
    CHECK(lab.node.exec("ip -6 route show table 241 " + a6) != "");
    CHECK(serve.alive());
    lab.node_bird->start();
    REQUIRE(wait_until([&] { return lab.router_has(a4 + "/32") && lab.router_has(a6 + "/128"); }));
    CHECK(ask(a4, 10) == "pod-1=10");
    CHECK(ask(a6, 10) == "pod-1=10");
    CHECK(serve.alive());
}
