// The two-router lab (issue 7 item 5, without serve): real BIRD 2 in a node namespace with
// the shipped flock.conf, a router namespace peering eBGP over IPv4 and IPv6, routes put in
// the node's table 241 with proto 241, and BirdPublisher rendering the set. Everything is
// checked at the router's kernel. One TEST_CASE with sequential steps: BGP takes ~4 s to come
// up (bird-notes.md) and Catch2 sections would rebuild the lab each time.
#include "common/ip_address.hpp"
#include "reconciler/bird/bird_publisher.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <fstream>
#include <sstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace anycast::reconciler;
using namespace anycast::test;
using anycast::common::Prefix;

namespace {

std::vector<Prefix> prefixes(std::initializer_list<std::string> texts) {
    std::vector<Prefix> out;
    for (const auto& text : texts) out.push_back(*Prefix::parse(text));
    return out;
}

}  // namespace

TEST_CASE("BIRD announces a prefix exactly while it is in our table and the rendered set", "[netns][bird]") {
    PrivateNetns netns;
    BirdLab lab;
    asio::io_context io;
    // Sets shrink here while our routes stay (the set alone decides): written at once.
    BirdPublisher publisher(
        io, BirdPublisherSettings{lab.fragment_path, lab.node_bird->socket(), 2s, BirdReloadOptions{20ms, 200ms}, 0ms});
    // Runs the publisher's loop while waiting for the router to see something.
    auto settle = [&](const std::function<bool()>& done) {
        return wait_until(
            [&] {
                io.restart();
                io.poll();
                return done();
            },
            30s, 10ms);
    };
    auto published = [&](const std::vector<Prefix>& set) {
        const auto before = publisher.reload_stats().succeeded;
        publisher.publish(set);
        REQUIRE(settle([&] { return publisher.reload_stats().succeeded > before && !publisher.reloader().busy(); }));
    };

    const std::string a4 = "10.255.53.53/32";
    const std::string a6 = "fd00:255::53/128";
    const std::string a4_host = "10.255.53.53";
    const std::string a6_host = "fd00:255::53";
    // A probe prefix: once the router has it, BIRD has processed everything before it.
    const std::string probe = "10.255.99.1/32";
    lab.set_node_route(probe, {0});

    const auto since4 = lab.session_since("node4");
    const auto since6 = lab.session_since("node6");

    // Step 1: our routes in table 241 but nothing in the set → nothing announced.
    lab.set_node_route(a4, {0});
    lab.set_node_route(a6, {0});
    published({});
    published(prefixes({probe}));
    REQUIRE(settle([&] { return lab.router_has(probe); }));
    CHECK_FALSE(lab.router_has(a4));
    CHECK_FALSE(lab.router_has(a6));

    // Step 2: in the set → announced over both sessions; decoys are not: proto 241 but not
    // in the set, in the set but proto static, in the set but another kernel table.
    lab.node.exec("ip route replace 10.255.53.99/32 via 10.1.1.2 dev n-p1 proto 241 table 241");
    lab.node.exec("ip route replace 10.255.53.98/32 via 10.1.1.2 dev n-p1 proto static table 241");
    lab.node.exec("ip route replace 10.255.53.97/32 via 10.1.1.2 dev n-p1 proto 241 table 242");
    published(prefixes({a4, a6, probe, "10.255.53.98/32", "10.255.53.97/32"}));
    REQUIRE(settle([&] { return lab.router_has(a4) && lab.router_has(a6); }));
    CHECK(lab.router_route(a4).find("via 10.0.0.2") != std::string::npos);
    CHECK(lab.router_route(a6).find("via fd00:0:0:1::2") != std::string::npos);
    CHECK_FALSE(lab.router_has("10.255.53.99/32"));
    CHECK_FALSE(lab.router_has("10.255.53.98/32"));
    CHECK_FALSE(lab.router_has("10.255.53.97/32"));
    // Our routes never leak into the node's main table (export where !flock_anycast_route()).
    CHECK(lab.node.exec("ip route show table main " + a4_host) == "");
    CHECK(lab.node.exec("ip -6 route show table main " + a6_host) == "");

    // Step 3: ECMP from two pods to one, one replace each way (v4 and v6): the router never
    // sees a withdrawal.
    lab.set_node_route(a4, {0, 1});
    lab.set_node_route(a6, {0, 1});
    REQUIRE(settle([&] { return lab.node_bird_hops(a4) == 2 && lab.node_bird_hops(a6) == 2; }));
    {
        RouteMonitorLog monitor(lab.router, lab.dir.file("router-monitor.log"));

        lab.set_node_route(a4, {1});
        lab.set_node_route(a6, {1});
        REQUIRE(settle([&] { return lab.node_bird_hops(a4) == 1 && lab.node_bird_hops(a6) == 1; }));
        // A later announcement travels the same BGP session after any withdrawal would.
        const std::string probe2 = "10.255.99.2/32";
        lab.set_node_route(probe2, {1});
        published(prefixes({a4, a6, probe, probe2}));
        REQUIRE(settle([&] { return lab.router_has(probe2); }));
        const std::string log = monitor.stop();
        INFO(log);
        CHECK(monitor_deletions(log, a4_host) == 0);
        CHECK(monitor_deletions(log, a6_host) == 0);
        CHECK(lab.router_has(a4));
        CHECK(lab.router_has(a6));
    }

    // Step 4: out of the set while our route stays → withdrawn (v6); route gone while still
    // in the set → withdrawn (v4).
    published(prefixes({a4, probe}));
    REQUIRE(settle([&] { return !lab.router_has(a6); }));
    lab.set_node_route(a4, {});
    REQUIRE(settle([&] { return !lab.router_has(a4); }));
    CHECK(lab.router_has(probe));

    // Step 5: every reconfigure above left the BGP sessions alone.
    CHECK(publisher.reload_stats().succeeded >= 5);
    CHECK(std::chrono::abs(lab.session_since("node4") - since4) < std::chrono::milliseconds(50));
    CHECK(std::chrono::abs(lab.session_since("node6") - since6) < std::chrono::milliseconds(50));

    // Step 6: node BIRD killed → our kernel routes stay, the router loses the session;
    // restarted → the router learns the routes again and a pending reload lands.
    lab.set_node_route(a4, {0, 1});
    published(prefixes({a4, a6, probe}));
    REQUIRE(settle([&] { return lab.router_has(a4) && lab.router_has(a6); }));
    lab.node_bird->kill_hard();
    REQUIRE(settle([&] { return !lab.router_has(a4); }));
    CHECK(lab.node.exec("ip route show table 241 " + a4_host).find("nexthop") != std::string::npos);
    CHECK(lab.node.exec("ip -6 route show table 241 " + a6_host) != "");
    const auto succeeded_before = publisher.reload_stats().succeeded;
    publisher.publish(prefixes({a4, a6}));  // BIRD is away: retried
    REQUIRE(settle([&] { return publisher.reload_stats().transport_failures >= 1; }));
    lab.node_bird->start();
    REQUIRE(settle([&] { return publisher.reload_stats().succeeded > succeeded_before; }));
    REQUIRE(settle([&] { return lab.sessions_established() && lab.router_has(a4) && lab.router_has(a6); }));
    REQUIRE(settle([&] { return !lab.router_has(probe); }));  // no longer in the set
}
