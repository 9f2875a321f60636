// Netlink routes and rules against a real kernel: replace/dump/delete, multipath hop-set
// changes, protocol filtering, batches with failures. IPv4 and IPv6 throughout.
#include "common/netlink/route.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/socket.hpp"
#include "test/support/netlink_fixture.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <vector>

using namespace anycast::test;
namespace nl = anycast::common::netlink;
using anycast::common::Family;
using anycast::common::IpAddress;

namespace {

constexpr int k_protocol = 241;
constexpr std::uint32_t k_table = 241;

// Three veths with a connected subnet each, so gateways .2 / ::2 on them are reachable.
struct Lab {
    Lab() {
        for (int i = 1; i <= 3; ++i) {
            const std::string name = unique_name("v" + std::to_string(i));
            make_veth(name, name.substr(0, 14) + "p");
            sh("ip addr add 10.99." + std::to_string(i) + ".1/24 dev " + name);
            sh("ip -6 addr add fd00:99:" + std::to_string(i) + "::1/64 dev " + name + " nodad");
            links.push_back(ifindex(socket, name));
        }
    }

    // Hop i (0..2) of the family: gateway .2 on veth i.
    nl::NextHop hop(Family family, int i) const {
        const std::string n = std::to_string(i + 1);
        return nl::NextHop{ip(family == Family::v4 ? "10.99." + n + ".2" : "fd00:99:" + n + "::2"), links[i]};
    }

    nl::Route route(const std::string& destination, std::vector<nl::NextHop> hops,
                    std::uint32_t table = k_table) const {
        std::sort(hops.begin(), hops.end());
        return nl::Route{prefix(destination), std::move(hops), k_protocol, table};
    }

    nl::Socket socket = nl::Socket::open();
    std::vector<int> links;
};

const char* destination_of(Family family) { return family == Family::v4 ? "10.255.0.1/32" : "fd00:255::1/128"; }

std::string family_flag(Family family) { return family == Family::v4 ? "-4" : "-6"; }

}  // namespace

TEST_CASE("a single-hop route is replaced, dumped back exactly and deleted, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    for (const Family family : {Family::v4, Family::v6}) {
        DYNAMIC_SECTION("IPv" << static_cast<int>(family)) {
            const auto route = lab.route(destination_of(family), {lab.hop(family, 0)});
            nl::replace_route(lab.socket, route);
            nl::replace_route(lab.socket, route);  // replace is idempotent
            CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == std::vector<nl::Route>{route});
            const std::string shown = sh("ip " + family_flag(family) + " route show table 241");
            CHECK(shown.find(route.destination.address().to_string() + " via " + route.hops[0].gateway.to_string()) !=
                  std::string::npos);
            CHECK(shown.find("proto 241") != std::string::npos);

            CHECK(nl::delete_route(lab.socket, route));
            CHECK(nl::dump_routes(lab.socket, k_table, k_protocol).empty());
            CHECK_FALSE(nl::delete_route(lab.socket, route));  // already gone: the distinct result
        }
    }
}

TEST_CASE("routes go to tables above 255 (RTA_TABLE) and to main, and dumps keep tables apart", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    for (const Family family : {Family::v4, Family::v6}) {
        DYNAMIC_SECTION("IPv" << static_cast<int>(family)) {
            const auto big = lab.route(destination_of(family), {lab.hop(family, 0)}, 100000);
            const auto main = lab.route(destination_of(family), {lab.hop(family, 1)}, 254);
            nl::replace_route(lab.socket, big);
            nl::replace_route(lab.socket, main);
            CHECK(nl::dump_routes(lab.socket, 100000, k_protocol) == std::vector<nl::Route>{big});
            CHECK(nl::dump_routes(lab.socket, 254, k_protocol) == std::vector<nl::Route>{main});
            CHECK(nl::dump_routes(lab.socket, k_table, k_protocol).empty());
            CHECK(sh("ip " + family_flag(family) + " route show table 100000").find("proto 241") != std::string::npos);
        }
    }
}

TEST_CASE("a multipath route goes 3 -> 2 -> 1 -> 2 hops and reads back exactly, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    for (const Family family : {Family::v4, Family::v6}) {
        DYNAMIC_SECTION("IPv" << static_cast<int>(family)) {
            const std::vector<std::vector<int>> steps{{0, 1, 2}, {0, 2}, {1}, {1, 2}};
            for (const auto& step : steps) {
                std::vector<nl::NextHop> hops;
                for (int i : step) hops.push_back(lab.hop(family, i));
                const auto route = lab.route(destination_of(family), hops);
                nl::replace_route(lab.socket, route);
                INFO("hops " << step.size() << "\n" << sh("ip " + family_flag(family) + " route show table all"));
                CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == std::vector<nl::Route>{route});
                // The kernel's own view agrees: as many "via" as hops.
                const std::string shown = sh("ip " + family_flag(family) + " route show table 241");
                std::size_t vias = 0;
                for (auto at = shown.find(" via "); at != std::string::npos; at = shown.find(" via ", at + 1)) ++vias;
                CHECK(vias == step.size());
            }
        }
    }
}

TEST_CASE("a dump filtered on our protocol never returns routes of another protocol", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    sh("ip route add 10.60.0.1/32 via 10.99.1.2 proto static table 241");
    sh("ip route add 10.60.0.2/32 proto static table 241 nexthop via 10.99.1.2 nexthop via 10.99.2.2");
    sh("ip -6 route add fd00:60::1/128 via fd00:99:1::2 proto static table 241");
    sh("ip -6 route add fd00:60::2/128 proto static table 241 nexthop via fd00:99:1::2 nexthop via fd00:99:2::2");
    sh("ip route add 10.60.0.3/32 via 10.99.1.2 proto 242 table 241");
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol).empty());

    const auto ours4 = lab.route("10.255.0.9/32", {lab.hop(Family::v4, 2)});
    const auto ours6 = lab.route("fd00:255::9/128", {lab.hop(Family::v6, 2)});
    nl::replace_route(lab.socket, ours4);
    nl::replace_route(lab.socket, ours6);
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == std::vector<nl::Route>{ours4, ours6});
    // Other protocols' routes are still there, untouched.
    CHECK(sh("ip route show table 241 proto static").find("10.60.0.2") != std::string::npos);
    CHECK(sh("ip -6 route show table 241 proto static").find("fd00:60::2") != std::string::npos);
}

// No interface has this index in a fresh namespace.
constexpr int k_missing_ifindex = 999999;

TEST_CASE("deleting a missing route is reported as not found, distinct from other errors", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    const auto missing4 = lab.route("10.255.0.77/32", {lab.hop(Family::v4, 0)});
    const auto missing6 = lab.route("fd00:255::77/128", {lab.hop(Family::v6, 0)});
    const auto other_table = lab.route("10.255.0.78/32", {lab.hop(Family::v4, 0)}, 4242);  // table never created
    CHECK_FALSE(nl::delete_route(lab.socket, missing4));
    CHECK_FALSE(nl::delete_route(lab.socket, missing6));
    const auto results = nl::apply_route_changes(lab.socket, {{nl::RouteChange::Kind::remove, missing4},
                                                              {nl::RouteChange::Kind::remove, missing6},
                                                              {nl::RouteChange::Kind::remove, other_table}});
    CHECK(results == std::vector<int>{nl::k_not_found, nl::k_not_found, nl::k_not_found});

    // A real error is an errno, not k_not_found: a next hop on an interface that does not
    // exist (every hop is onlink, docs/design-notes.md, so the kernel does not check that the
    // gateway is on a subnet of the link).
    auto unreachable = lab.route("10.255.0.79/32", {nl::NextHop{ip("10.123.0.1"), k_missing_ifindex}});
    const auto failed = nl::apply_route_changes(lab.socket, {{nl::RouteChange::Kind::replace, unreachable}});
    REQUIRE(failed.size() == 1);
    CHECK(failed[0] > 0);
    CHECK(failed[0] != nl::k_not_found);
}

TEST_CASE("a replace the kernel refuses throws naming the route and the kernel's reason", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    const auto route = lab.route("10.255.0.80/32", {nl::NextHop{ip("10.123.0.1"), k_missing_ifindex}});
    try {
        nl::replace_route(lab.socket, route);
        FAIL("no error");
    } catch (const nl::NetlinkError& e) {
        CHECK(e.error_number() == ENODEV);
        CHECK(e.request() ==
              "RTM_NEWROUTE 10.255.0.80/32 table 241 via 10.123.0.1 dev " + std::to_string(k_missing_ifindex));
        CHECK_FALSE(e.kernel_message().empty());
    }
}

TEST_CASE("a batch with one bad request reports that one and applies all the others", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    std::vector<nl::RouteChange> changes;
    std::vector<nl::Route> expected;
    for (int i = 0; i < 50; ++i) {
        const std::string n = std::to_string(i);
        auto v4 = lab.route("10.254.0." + n + "/32", {lab.hop(Family::v4, i % 3)});
        auto v6 = lab.route("fd00:254::" + n + "/128", {lab.hop(Family::v6, i % 3), lab.hop(Family::v6, (i + 1) % 3)});
        changes.push_back({nl::RouteChange::Kind::replace, v4});
        changes.push_back({nl::RouteChange::Kind::replace, v6});
        expected.push_back(v4);
        expected.push_back(v6);
    }
    // Next hops on an interface that does not exist: the kernel refuses these two, in the
    // middle of the batch.
    changes.insert(changes.begin() + 31,
                   {nl::RouteChange::Kind::replace,
                    lab.route("10.253.0.1/32", {nl::NextHop{ip("10.123.0.1"), k_missing_ifindex}})});
    changes.insert(changes.begin() + 61,
                   {nl::RouteChange::Kind::replace,
                    lab.route("fd00:253::1/128", {nl::NextHop{ip("fd00:123::1"), k_missing_ifindex}})});
    const auto results = nl::apply_route_changes(lab.socket, changes);
    REQUIRE(results.size() == changes.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        INFO("change " << i);
        if (i == 31 || i == 61) {
            CHECK(results[i] > 0);
        } else {
            CHECK(results[i] == 0);
        }
    }
    std::sort(expected.begin(), expected.end(),
              [](const nl::Route& a, const nl::Route& b) { return a.destination < b.destination; });
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == expected);
}

TEST_CASE("a batch larger than one sendmsg is applied completely and attributed in order", "[netns]") {
    PrivateNetns netns;
    Lab lab;
    // 8 000 requests of about 60 bytes: two chunks of 256 KiB or more, each request built
    // just before its chunk is sent; every 499th is refused (an interface that does not exist).
    std::vector<nl::RouteChange> changes;
    for (int i = 0; i < 8000; ++i) {
        const std::string n = std::to_string(i / 250) + "." + std::to_string(i % 250);
        const nl::NextHop hop =
            i % 499 == 0 ? nl::NextHop{ip("10.123.0.1"), k_missing_ifindex} : lab.hop(Family::v4, 0);
        changes.push_back({nl::RouteChange::Kind::replace, lab.route("10.200." + n + "/32", {hop})});
    }
    const auto before = lab.socket.send_count();
    const auto results = nl::apply_route_changes(lab.socket, changes);
    REQUIRE(results.size() == changes.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        INFO("change " << i);
        CHECK((results[i] != 0) == (i % 499 == 0));
    }
    CHECK(lab.socket.send_count() - before >= 2);
    CHECK(lab.socket.send_count() - before < 100);  // batched, not one sendmsg per route
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol).size() == 8000 - 17);

    for (auto& change : changes) change.kind = nl::RouteChange::Kind::remove;
    changes[1234].route.destination = prefix("10.201.0.1/32");  // never installed
    const auto removed = nl::apply_route_changes(lab.socket, changes);
    CHECK(std::count(removed.begin(), removed.end(), 0) == 8000 - 17 - 1);
    CHECK(std::count(removed.begin(), removed.end(), nl::k_not_found) == 17 + 1);
    CHECK(removed[1234] == nl::k_not_found);
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol).size() == 1);
}

TEST_CASE(
    "1 000 next hops on one IPv4 and one IPv6 destination are installed and read back whole; "
    "a route too large for one message fails alone",
    "[netns]") {
    PrivateNetns netns;
    Lab lab;
    // Hop i: its own gateway, onlink on veth i % 3 (a large maxPods node's pods).
    const auto many_hops = [&](Family family, int count) {
        std::vector<nl::NextHop> hops;
        for (int i = 0; i < count; ++i) {
            const std::string gateway = family == Family::v4
                                            ? "10.98." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2)
                                            : "fd00:98::" + fmt::format("{:x}", i + 2);
            hops.push_back({ip(gateway), lab.links[i % 3]});
        }
        return hops;
    };
    const auto v4 = lab.route("10.255.0.1/32", many_hops(Family::v4, 1000));
    const auto v6 = lab.route("fd00:255::1/128", many_hops(Family::v6, 1000));
    const auto plain = lab.route("10.255.0.2/32", {lab.hop(Family::v4, 0)});
    // 3 000 IPv6 hops need more than the 65 535 bytes of one RTA_MULTIPATH.
    const auto oversized = lab.route("fd00:255::2/128", many_hops(Family::v6, 3000));
    const std::vector<nl::RouteChange> changes{{nl::RouteChange::Kind::replace, oversized},
                                               {nl::RouteChange::Kind::replace, v4},
                                               {nl::RouteChange::Kind::replace, v6},
                                               {nl::RouteChange::Kind::replace, plain}};
    const auto results = nl::apply_route_changes(lab.socket, changes);
    CHECK(results == std::vector<int>{EMSGSIZE, 0, 0, 0});
    const auto installed = nl::dump_routes(lab.socket, k_table, k_protocol);
    CHECK(installed == std::vector<nl::Route>{v4, plain, v6});

    // Shrinking and removing such a route work the same way.
    const auto fewer = lab.route("fd00:255::1/128", many_hops(Family::v6, 999));
    nl::replace_route(lab.socket, fewer);
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == std::vector<nl::Route>{v4, plain, fewer});
    CHECK(nl::delete_route(lab.socket, v4));
    CHECK(nl::delete_route(lab.socket, fewer));
    CHECK(nl::dump_routes(lab.socket, k_table, k_protocol) == std::vector<nl::Route>{plain});
}

TEST_CASE("rules are ensured and removed idempotently, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    for (const Family family : {Family::v4, Family::v6}) {
        DYNAMIC_SECTION("IPv" << static_cast<int>(family)) {
            const std::string show = "ip " + family_flag(family) + " rule show";
            for (const std::uint32_t table : {241u, 100000u}) {
                nl::ensure_rule(socket, family, 1000, table);
                nl::ensure_rule(socket, family, 1000, table);
                const std::string shown = sh(show);
                const std::string expected = "1000:\tfrom all lookup " + std::to_string(table);
                CHECK(shown.find(expected) != std::string::npos);
                CHECK(shown.find(expected) == shown.rfind(expected));  // exactly once
                nl::remove_rule(socket, family, 1000, table);
                nl::remove_rule(socket, family, 1000, table);
                CHECK(sh(show).find("lookup " + std::to_string(table)) == std::string::npos);
            }
        }
    }
}
