// Fault: BIRD killed (SIGKILL, no clean shutdown) and restarted (issue 15 item B.3), in the BIRD
// lab (test/support/bird_lab.hpp): serve beside the node's BIRD, which peers with a router's
// BIRD. The kernel routes never depend on BIRD: they stay while it is dead, and follow changes
// made meanwhile. The restarted BIRD reads the include serve wrote while it was down and,
// once the sessions are up again, the router sees exactly the installed set; serve's reloader
// then drives the new BIRD as it did the old one.
#include "common/store/record_store.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/logged_check.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;
using namespace std::chrono_literals;

namespace {

using PrefixSet = std::set<std::string>;

// "10.255.53.53" → "10.255.53.53/32": `ip route` prints host routes without their length.
std::string with_length(const std::string& destination) {
    if (destination.find('/') != std::string::npos) return destination;
    return destination + (destination.find(':') != std::string::npos ? "/128" : "/32");
}

// The destinations of an `ip route show` listing that lie in the anycast ranges of the lab's
// policy (10.255.0.0/16, fd00:255::/48).
PrefixSet anycast_destinations(const std::string& listing) {
    PrefixSet out;
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string destination;
        words >> destination;
        if (destination.rfind("10.255.", 0) == 0 || destination.rfind("fd00:255:", 0) == 0) {
            out.insert(with_length(destination));
        }
    }
    return out;
}

// Our routes in the node's kernel (table 241, protocol 241), as `ip route` prints them.
std::string node_routes(const BirdLab& lab) {
    return lab.node.exec("ip -4 route show table 241 proto 241; ip -6 route show table 241 proto 241");
}

// What the router learnt from the node over BGP and put in its kernel.
PrefixSet router_prefixes(const BirdLab& lab) {
    return anycast_destinations(lab.router.exec("ip -4 route show proto bird; ip -6 route show proto bird"));
}

}  // namespace

TEST_CASE("BIRD killed and restarted: kernel routes stay; the restarted BIRD announces exactly the installed set",
          "[faults][bird][netns]") {
    PrivateNetns netns;
    BirdLab lab;
    lab.prepare_serve();
    const std::string a4 = std::string(BirdLab::anycast_v4) + "/32";
    const std::string a6 = std::string(BirdLab::anycast_v6) + "/128";
    const std::string extra = "10.255.53.54/32";
    lab.set_readiness({{true, false}, {true, false}});
    const auto serve = lab.start_serve();
    const auto serve_log = [&] { return read_text_file(lab.dir.file("serve.log")); };

    REQUIRE(wait_until([&] { return router_prefixes(lab) == PrefixSet{a4, a6}; }));
    REQUIRE(wait_until([&] { return lab.node_bird_hops(a4) == 2 && lab.node_bird_hops(a6) == 2; }));
    const std::string routes_before = node_routes(lab);
    REQUIRE(anycast_destinations(routes_before) == PrefixSet{a4, a6});

    lab.node_bird->kill_hard();
    // The router's session drops with the dead BIRD's TCP connections: the announcements go.
    REQUIRE_LOGGED(serve_log(), wait_until([&] { return router_prefixes(lab).empty(); }));
    // The node's kernel routes stay (checked over 2 s while serve has nothing to do)...
    for (int i = 0; i < 10; ++i) {
        CHECK(node_routes(lab) == routes_before);
        std::this_thread::sleep_for(200ms);
    }

    // ...and still follow the pods while BIRD is dead: pod-2 stops being ready, and pod-1
    // claims a second address. The include is rewritten (the set grew by 10.255.53.54 and lost
    // nothing), the reload finds no BIRD and is retried with backoff.
    lab.set_readiness({{true, false}, {false, false}});
    common::RecordStore(lab.dir.file("state"))
        .put(RecordBuilder("lab", "c3")
                 .netns(lab.pods[0].ns->path())
                 .pod("dns", "pod-1")
                 .ip("10.255.53.54")
                 .nexthop(lab.pods[0].v4, lab.pods[0].node_iface)
                 .created("2026-11-24T10:00:00Z")
                 .build());
    REQUIRE_LOGGED(serve_log(), wait_until([&] {
                       const std::string routes = node_routes(lab);
                       return anycast_destinations(routes) == PrefixSet{a4, a6, extra} &&
                              routes.find(lab.pods[1].v4) == std::string::npos &&
                              routes.find(lab.pods[1].v6) == std::string::npos;
                   }));
    REQUIRE(wait_until([&] { return read_text_file(lab.fragment_path).find(extra) != std::string::npos; }));
    REQUIRE(wait_until(
        [&] { return read_text_file(lab.dir.file("serve.log")).find("bird reload: no answer") != std::string::npos; }));
    const std::string routes_while_dead = node_routes(lab);
    std::this_thread::sleep_for(1s);
    CHECK(node_routes(lab) == routes_while_dead);  // failing reloads never touch the kernel

    // Restarted: it reads the include as serve left it; once the sessions are up the router
    // has exactly the installed set, with one hop each at the node.
    lab.node_bird->start();
    REQUIRE_LOGGED(serve_log(), wait_until([&] { return lab.sessions_established(); }));
    REQUIRE(wait_until([&] { return router_prefixes(lab) == PrefixSet{a4, a6, extra}; }));
    CHECK(lab.node_bird_hops(a4) == 1);
    CHECK(lab.node_bird_hops(a6) == 1);
    CHECK(lab.node_bird_hops(extra) == 1);
    CHECK(node_routes(lab) == routes_while_dead);
    // serve's reloader reaches the new BIRD (its retry, at most 10 s of backoff later).
    CHECK_LOGGED(serve_log(), wait_until([&] {
                     const std::string log = read_text_file(lab.dir.file("serve.log"));
                     const auto failed = log.rfind("bird reload: no answer");
                     const auto done = log.rfind("msg=\"bird reload\"");
                     return done != std::string::npos && done > failed;
                 }));

    // And drives it: the extra address leaves the set; the include shrinks (200 ms later),
    // the kernel route goes, and the router withdraws it; the rest stays announced.
    common::RecordStore(lab.dir.file("state")).remove("lab", "c3", "eth0");
    CHECK(wait_until([&] { return router_prefixes(lab) == PrefixSet{a4, a6}; }));
    CHECK(wait_until([&] { return read_text_file(lab.fragment_path).find(extra) == std::string::npos; }));
    CHECK(anycast_destinations(node_routes(lab)) == PrefixSet{a4, a6});
    CHECK(serve->running());
}
