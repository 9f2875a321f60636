// The BIRD lab with serve (issue 7 item 5): `flock-anycast serve` in the node namespace next
// to BIRD with the shipped configs, records for two pods, readiness from a file, and real
// UDP traffic from the router to the anycast addresses, answered by each pod's anycast-echo.
#include "test/support/background_process.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace std::chrono_literals;
using namespace anycast::test;

namespace {

std::string trim_copy(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

}  // namespace

TEST_CASE(
    "serve with BIRD: only ready pods get traffic, ECMP growth and shrink never withdraw, withdrawal when none is "
    "left",
    "[netns][bird]") {
    PrivateNetns netns;
    BirdLab lab;
    const std::string a4 = BirdLab::anycast_v4;
    const std::string a6 = BirdLab::anycast_v6;
    lab.prepare_serve();
    auto set_pods = [&](const std::vector<LabPodState>& states) { lab.set_readiness(states); };

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

    const auto serve = lab.start_serve();
    INFO("serve log: " << lab.dir.file("serve.log"));

    // Step 1: no pod ready → serve renders the empty sets, nothing is announced.
    REQUIRE(wait_until([&] { return read_text_file(lab.fragment_path).rfind("# Written by flock-anycast", 0) == 0; }));
    CHECK(read_text_file(lab.fragment_path).find("define FLOCK_ANYCAST_V4 = [ ];") != std::string::npos);
    CHECK(lab.node.exec("ip route show table all proto 241; ip -6 route show table all proto 241") == "");
    CHECK_FALSE(lab.router_has(a4 + "/32"));
    CHECK_FALSE(lab.router_has(a6 + "/128"));

    // Step 2: pod-1 ready → announced; every request is answered by pod-1.
    set_pods({{true, false}, {false, false}});
    REQUIRE(wait_until([&] { return lab.router_has(a4 + "/32") && lab.router_has(a6 + "/128"); }));
    // The first packets towards a fresh path wait for neighbour discovery (node → pod, router
    // → node) and can miss the 300 ms answer window on a loaded machine: warm the path first.
    REQUIRE(wait_until([&] { return ask(a4, 1) == "pod-1=1" && ask(a6, 1) == "pod-1=1"; }));
    CHECK(ask(a4, 20) == "pod-1=20");
    CHECK(ask(a6, 20) == "pod-1=20");

    // serve's default routes.ecmp resilient: the routes name a resilient nexthop group
    // (RTA_NH_ID), and BIRD learns them through the kernel's nexthop_compat_mode expansion.
    CHECK(lab.node.exec("ip route show table 241 " + a4).find("nhid") != std::string::npos);
    CHECK(lab.node.exec("ip -6 route show table 241 " + a6).find("nhid") != std::string::npos);

    // Step 3: both ready → ECMP (the group grows: replaced, the route untouched), never
    // withdrawn at the router on the way; flows from the router spread over both pods.
    RouteMonitorLog growing(lab.router, lab.dir.file("router-monitor-grow.log"));
    set_pods({{true, false}, {true, false}});
    REQUIRE(wait_until([&] { return lab.node_bird_hops(a4 + "/32") == 2 && lab.node_bird_hops(a6 + "/128") == 2; }));
    {
        const std::string log = growing.stop();
        INFO(log);
        CHECK(monitor_deletions(log, a4) == 0);
        CHECK(monitor_deletions(log, a6) == 0);
    }
    // Warm pod-2's new path (neighbour discovery both ways) before counting, as in step 2.
    for (const auto& address : {a4, a6}) {
        REQUIRE(wait_until([&] { return ask(address, 20).find("pod-2=") != std::string::npos; }));
    }
    for (const auto& address : {a4, a6}) {
        const std::string answers = ask(address, 40);
        INFO(address << ": " << answers);
        CHECK(answers.find("pod-1=") != std::string::npos);
        CHECK(answers.find("pod-2=") != std::string::npos);
        CHECK(answers.find("none") == std::string::npos);
        CHECK(answers.find("no-route") == std::string::npos);
    }

    // Step 4: pod-2 being deleted → back to one hop, never withdrawn at the router, and
    // pod-2 gets no new flows.
    {
        RouteMonitorLog monitor(lab.router, lab.dir.file("router-monitor.log"));
        set_pods({{true, false}, {true, true}});
        REQUIRE(
            wait_until([&] { return lab.node_bird_hops(a4 + "/32") == 1 && lab.node_bird_hops(a6 + "/128") == 1; }));
        CHECK(ask(a4, 20) == "pod-1=20");
        CHECK(ask(a6, 20) == "pod-1=20");
        const std::string log = monitor.stop();
        INFO(log);
        CHECK(monitor_deletions(log, a4) == 0);
        CHECK(monitor_deletions(log, a6) == 0);
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
    REQUIRE(wait_until(
        [&] { return lab.node.exec("ip route show table 241 " + a4).find("nexthop") == std::string::npos; }));
    CHECK(lab.node.exec("ip route show table 241 " + a4) != "");
    CHECK(lab.node.exec("ip -6 route show table 241 " + a6) != "");
    CHECK(serve->alive());
    lab.node_bird->start();
    REQUIRE(wait_until([&] { return lab.router_has(a4 + "/32") && lab.router_has(a6 + "/128"); }));
    CHECK(ask(a4, 10) == "pod-1=10");
    CHECK(ask(a6, 10) == "pod-1=10");
    CHECK(serve->alive());
}
