// The BIRD lab with serve (issue 7 item 5): `flock-anycast serve` in the node namespace next
// to BIRD with the shipped configs, records for two pods, readiness from a file, and real
// UDP traffic from the router to the anycast addresses, answered by each pod's anycast-echo.
#include "common/netlink/netns.hpp"
#include "reconciler/metrics/metrics_scrape.hpp"
#include "test/support/background_process.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/serve_lab.hpp"
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

TEST_CASE("serve reports announcements stuck while BIRD is not reached, and recovers when it answers",
          "[bird][netns][serve][metrics]") {
    BirdLab lab;
    const std::string listen = "127.0.0.1:19661";
    lab.prepare_serve(listen);
    lab.node_bird->kill_hard();  // the socket file stays, nobody listens
    lab.set_readiness({{true, false}, {false, false}});
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << read_text_file(lab.dir.file("serve.log")));
    // serve's endpoint is on the node's loopback: ask from there.
    const auto in_node = [&](auto ask) {
        anycast::common::netlink::NetnsGuard node(lab.node.path());
        return ask();
    };
    const auto healthy = [&] { return in_node([&] { return scraped(listen, "flock_anycast_bird_healthy"); }); };
    const auto readyz = [&] { return in_node([&] { return anycast::reconciler::http_get(listen, "/readyz", 1s); }); };

    // The kernel route is there; what is stuck is the announcement.
    REQUIRE(wait_until([&] {
        // The table exists only once serve has put a route in it.
        const auto routes =
            run_process({"ip", "netns", "exec", lab.node.name(), "ip", "route", "show", "table", "241"});
        return routes.out.find("10.255.53.53") != std::string::npos;
    }));
    CHECK(wait_until([&] { return healthy() == 0; }));
    const auto stuck = readyz();
    CHECK(stuck.status == 503);
    CHECK(stuck.body.find("announcements stuck: BIRD on " + lab.node_bird->socket()) != std::string::npos);

    lab.node_bird->start();  // the reloader's retry finds it (backoff up to 10 s)
    CHECK(wait_until([&] { return healthy() == 1; }, 30s));
    CHECK(readyz().status == 200);
    CHECK(wait_until([&] { return lab.router_has("10.255.53.53/32"); }));
}

TEST_CASE("why IP names the pods that asked, their eligibility, the routes, the include and BIRD's view",
          "[bird][netns][serve][cli]") {
    BirdLab lab;
    lab.prepare_serve();
    lab.set_readiness({{true, false}, {false, false}});
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << read_text_file(lab.dir.file("serve.log")));
    REQUIRE(wait_until([&] { return lab.router_has("10.255.53.53/32"); }));

    const auto why = run_process({"ip", "netns", "exec", lab.node.name(), flock_binary(), "why", "10.255.53.53",
                                  "--config", lab.dir.file("config.json")});
    INFO(why.out << why.err);
    REQUIRE(why.exit_code == 0);
    CHECK(why.out.rfind("10.255.53.53/32\n  asked for by 2 records\n", 0) == 0);
    CHECK(why.out.find("pod dns/pod-1, eligible") != std::string::npos);
    CHECK(why.out.find("pod dns/pod-2, not eligible: not ready") != std::string::npos);
    CHECK(why.out.find("next hop via 10.1.1.2 dev n-p1") != std::string::npos);
    CHECK(why.out.find("desired route: 10.255.53.53/32 via 10.1.1.2 dev n-p1") != std::string::npos);
    CHECK(why.out.find("kernel route (table 241, protocol 241): 10.255.53.53/32 via 10.1.1.2 dev n-p1") !=
          std::string::npos);
    CHECK(why.out.find("include " + lab.fragment_path + ": lists it") != std::string::npos);
    CHECK(why.out.find("BIRD table flock4: learnt") != std::string::npos);

    // An address nobody asked for: said so, and nothing anywhere.
    const auto nobody = run_process({"ip", "netns", "exec", lab.node.name(), flock_binary(), "why", "10.255.9.9",
                                     "--config", lab.dir.file("config.json")});
    INFO(nobody.out << nobody.err);
    CHECK(nobody.out.find("asked for by 0 records") != std::string::npos);
    CHECK(nobody.out.find("kernel route (table 241, protocol 241): none") != std::string::npos);
    CHECK(nobody.out.find("does not list it") != std::string::npos);
    CHECK(nobody.out.find("BIRD table flock4: not learnt") != std::string::npos);
    CHECK(run_process({flock_binary(), "why", "not-an-ip"}).exit_code == 2);
}
