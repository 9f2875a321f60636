// Nexthop objects without a kernel: messages round-trip, the plan of a pass (resilient and
// multipath) creates, replaces and removes only what differs, in the kernel's order, with ids
// nobody else holds; routes carry their metric and nexthop id.
#include "common/netlink/nexthop_changes.hpp"
#include "common/netlink/nexthop_message.hpp"
#include "common/netlink/route_changes.hpp"
#include "common/netlink/route_message.hpp"

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

namespace nl = anycast::common::netlink;
using anycast::common::IpAddress;
using anycast::common::Prefix;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Prefix prefix(const char* text) { return *Prefix::parse(text); }

constexpr int k_protocol = 241;
constexpr std::uint32_t k_base = 241u << 24;  // where our ids start
const nl::ResilientGroupSettings k_groups{128, 120};

nl::Nexthop gateway(std::uint32_t id, const char* via, int ifindex, int protocol = k_protocol) {
    return nl::Nexthop{id, protocol, nl::NextHop{ip(via), ifindex}, std::nullopt};
}

nl::Nexthop group(std::uint32_t id, std::vector<std::uint32_t> members, std::uint16_t buckets = 128,
                  std::uint32_t idle = 120) {
    return nl::Nexthop{id, k_protocol, std::nullopt, nl::NexthopGroup{std::move(members), true, buckets, idle}};
}

nl::Route route(const char* destination, std::vector<nl::NextHop> hops, std::uint32_t nexthop_id = 0) {
    std::sort(hops.begin(), hops.end());
    nl::Route r{prefix(destination), std::move(hops), k_protocol, 241};
    r.nexthop_id = nexthop_id;
    return r;
}

nl::Nexthop round_trip(const nl::Nexthop& original) {
    nl::MessageBuilder message(RTM_NEWNEXTHOP, NLM_F_CREATE, nl::nexthop_message_capacity(original));
    nl::build_nexthop_message(message, original);
    const auto parsed = nl::parse_nexthop(message.header());
    REQUIRE(parsed);
    return *parsed;
}

std::vector<nl::NexthopChange::Kind> kinds(const std::vector<nl::NexthopChange>& changes) {
    std::vector<nl::NexthopChange::Kind> out;
    for (const auto& change : changes) out.push_back(change.kind);
    return out;
}

using Kind = nl::NexthopChange::Kind;

}  // namespace

TEST_CASE("nexthop messages round-trip: gateways of both families, resilient and mpath groups", "[unit]") {
    for (const auto& original :
         {gateway(7, "10.0.0.2", 3), gateway(8, "fd00::2", 4), group(9, {7, 10, 11}), group(12, {8}, 512, 0),
          nl::Nexthop{13, k_protocol, std::nullopt, nl::NexthopGroup{{7, 10}, false, 0, 0}}}) {
        DYNAMIC_SECTION(nl::describe_nexthop_request(RTM_NEWNEXTHOP, original)) {
            CHECK(round_trip(original) == original);
        }
    }
}

TEST_CASE("a gateway nexthop is onlink in its family; a delete names the id alone", "[unit]") {
    nl::MessageBuilder message(RTM_NEWNEXTHOP, NLM_F_CREATE, nl::nexthop_message_capacity(gateway(7, "fd00::2", 3)));
    nl::build_nexthop_message(message, gateway(7, "fd00::2", 3));
    const auto& header = *static_cast<const nhmsg*>(mnl_nlmsg_get_payload(&message.header()));
    CHECK(header.nh_family == AF_INET6);
    CHECK((header.nh_flags & RTNH_F_ONLINK) != 0);
    CHECK(header.nh_protocol == k_protocol);

    nl::MessageBuilder remove(RTM_DELNEXTHOP, 0);
    nl::build_nexthop_message(remove, group(9, {7, 8}));
    const auto parsed = nl::parse_nexthop(remove.header());
    REQUIRE(parsed);
    CHECK(parsed->id == 9);
    CHECK(parsed->protocol == 0);  // the kernel refuses a delete with header fields set
    CHECK(!parsed->group);
    CHECK(!parsed->hop);
}

TEST_CASE("malformed nexthop messages are rejected", "[unit]") {
    nl::MessageBuilder no_id(RTM_NEWNEXTHOP, 0);
    no_id.family_header<nhmsg>();
    CHECK(!nl::parse_nexthop(no_id.header()));

    nl::MessageBuilder odd_group(RTM_NEWNEXTHOP, 0);
    odd_group.family_header<nhmsg>();
    odd_group.put_u32(NHA_ID, 5);
    const std::uint8_t bytes[5] = {1, 0, 0, 0, 0};
    odd_group.put(NHA_GROUP, bytes, sizeof bytes);
    CHECK(!nl::parse_nexthop(odd_group.header()));

    nl::MessageBuilder route_message(RTM_NEWROUTE, 0);
    route_message.family_header<rtmsg>();
    CHECK(!nl::parse_nexthop(route_message.header()));
}

TEST_CASE("routes carry their metric and nexthop id through build and parse", "[unit]") {
    auto v4 = route("10.255.0.1/32", {{ip("10.0.0.2"), 3}}, 42);
    v4.priority = 50;
    auto v6 = route("fd00:255::1/128", {}, 43);
    for (const auto& original : {v4, v6}) {
        nl::MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, nl::route_message_capacity(original));
        nl::build_route_message(message, original);
        const auto parsed = nl::parse_route(message.header());
        REQUIRE(parsed);
        CHECK(parsed->route.priority == original.priority);
        CHECK(parsed->route.nexthop_id == original.nexthop_id);
        CHECK(parsed->route.hops.empty());  // the object holds them; the route names it only
    }
}

TEST_CASE("two routes to one destination at two metrics stay two; the extra one is removed by its metric", "[unit]") {
    auto ours = route("fd00:255::1/128", {{ip("fd00::2"), 3}});
    auto extra = route("fd00:255::1/128", {{ip("fd00::99"), 3}});
    extra.priority = 50;
    const auto merged = nl::merge_routes({ours, extra});
    REQUIRE(merged.size() == 2);
    const auto changes = nl::diff_routes(merged, {ours});
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == nl::RouteChange::Kind::remove);
    CHECK(changes[0].route.priority == 50);
}

TEST_CASE("a route through a nexthop object equals the desired one whatever hops the kernel expands it to", "[unit]") {
    const auto desired = route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.3"), 4}}, 9);
    CHECK(nl::same_route(route("10.255.0.1/32", {}, 9), desired));
    CHECK(nl::same_route(route("10.255.0.1/32", {{ip("10.0.0.2"), 3}}, 9), desired));
    CHECK(!nl::same_route(route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.3"), 4}}), desired));
    CHECK(!nl::same_route(route("10.255.0.1/32", {}, 10), desired));
}

TEST_CASE("resilient plan from nothing: members, then groups, every route naming its group", "[unit]") {
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.3"), 4}}),
                                  route("10.255.0.2/32", {{ip("10.0.0.2"), 3}})};
    // Someone else holds our first id: it is skipped.
    const nl::NexthopTable kernel{{}, {k_base}};
    const auto plan = nl::plan_nexthops(routes, {}, kernel, k_protocol, k_groups);
    CHECK(kinds(plan.first) == std::vector{Kind::create, Kind::create, Kind::create, Kind::create});
    CHECK(plan.last.empty());
    CHECK(plan.first[0].nexthop == gateway(k_base + 1, "10.0.0.2", 3));
    CHECK(plan.first[1].nexthop == gateway(k_base + 2, "10.0.0.3", 4));
    CHECK(plan.first[2].nexthop == group(k_base + 3, {k_base + 1, k_base + 2}));
    CHECK(plan.first[3].nexthop == group(k_base + 4, {k_base + 1}));  // the shared member is one object
    CHECK(routes[0].nexthop_id == k_base + 3);
    CHECK(routes[1].nexthop_id == k_base + 4);
    auto applied = plan;
    CHECK(nl::nexthops_after(kernel.ours, applied) ==
          std::vector{gateway(k_base + 1, "10.0.0.2", 3), gateway(k_base + 2, "10.0.0.3", 4),
                      group(k_base + 3, {k_base + 1, k_base + 2}), group(k_base + 4, {k_base + 1})});
}

TEST_CASE("resilient plan: a member and a group per route, ids in route order, members first in the list", "[unit]") {
    // Ids are taken route by route (its members, then its group); the list puts every
    // member before any group, as the kernel needs.
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}}),
                                  route("10.255.0.2/32", {{ip("10.0.0.3"), 3}}),
                                  route("10.255.0.3/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.4"), 4}})};
    const auto plan = nl::plan_nexthops(routes, {}, {}, k_protocol, k_groups);
    REQUIRE(plan.first.size() == 6);
    CHECK(plan.first[0].nexthop == gateway(k_base, "10.0.0.2", 3));
    CHECK(plan.first[1].nexthop == gateway(k_base + 2, "10.0.0.3", 3));
    CHECK(plan.first[2].nexthop == gateway(k_base + 4, "10.0.0.4", 4));
    CHECK(plan.first[3].nexthop == group(k_base + 1, {k_base}));
    CHECK(plan.first[4].nexthop == group(k_base + 3, {k_base + 2}));
    CHECK(plan.first[5].nexthop == group(k_base + 5, {k_base, k_base + 4}));
    CHECK(kinds(plan.first) == std::vector(6, Kind::create));
    CHECK(routes[2].nexthop_id == k_base + 5);
}

TEST_CASE("resilient plan: nothing changed, nothing written", "[unit]") {
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.3"), 4}})};
    const nl::NexthopTable kernel{{gateway(5, "10.0.0.2", 3), gateway(6, "10.0.0.3", 4), group(7, {5, 6})}, {1, 2}};
    const std::vector<nl::Route> installed{route("10.255.0.1/32", {}, 7)};
    const auto plan = nl::plan_nexthops(routes, installed, kernel, k_protocol, k_groups);
    CHECK(plan.first.empty());
    CHECK(plan.last.empty());
    auto applied = plan;
    CHECK(nl::nexthops_after(kernel.ours, applied) == kernel.ours);
    CHECK(routes[0].nexthop_id == 7);
    CHECK(nl::diff_routes(installed, routes).empty());
}

TEST_CASE("resilient plan: a pod leaving replaces the group in place, then removes its nexthop", "[unit]") {
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.4"), 5}})};
    const nl::NexthopTable kernel{
        {gateway(5, "10.0.0.2", 3), gateway(6, "10.0.0.3", 4), gateway(8, "10.0.0.4", 5), group(7, {5, 6, 8})}, {}};
    const std::vector<nl::Route> installed{route("10.255.0.1/32", {}, 7)};
    const auto plan = nl::plan_nexthops(routes, installed, kernel, k_protocol, k_groups);
    REQUIRE(plan.first.size() == 1);
    CHECK(plan.first[0] == nl::NexthopChange{Kind::replace, group(7, {5, 8})});
    REQUIRE(plan.last.size() == 1);
    CHECK(plan.last[0] == nl::NexthopChange{Kind::remove, gateway(6, "10.0.0.3", 4)});
    CHECK(nl::diff_routes(installed, routes).empty());  // the route is not touched
    auto applied = plan;
    CHECK(nl::nexthops_after(kernel.ours, applied) ==
          std::vector{gateway(5, "10.0.0.2", 3), group(7, {5, 8}), gateway(8, "10.0.0.4", 5)});
    CHECK(applied.first.empty());  // moved out
}

TEST_CASE("resilient plan: another bucket count needs a new group under the route", "[unit]") {
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}})};
    const nl::NexthopTable kernel{{gateway(5, "10.0.0.2", 3), group(7, {5}, 64)}, {}};
    const std::vector<nl::Route> installed{route("10.255.0.1/32", {}, 7)};
    const auto plan = nl::plan_nexthops(routes, installed, kernel, k_protocol, k_groups);
    CHECK(kinds(plan.first) == std::vector{Kind::create});
    CHECK(routes[0].nexthop_id == k_base);
    CHECK(kinds(plan.last) == std::vector{Kind::remove});
    CHECK(plan.last[0].nexthop.id == 7);
    CHECK(nl::diff_routes(installed, routes).size() == 1);
}

TEST_CASE("multipath plan and a route gone: groups removed before their members", "[unit]") {
    const nl::NexthopTable kernel{{gateway(5, "10.0.0.2", 3), gateway(6, "10.0.0.3", 4), group(7, {5, 6})}, {}};
    std::vector<nl::Route> routes{route("10.255.0.1/32", {{ip("10.0.0.2"), 3}, {ip("10.0.0.3"), 4}})};
    const auto multipath = nl::plan_nexthops(routes, {route("10.255.0.1/32", {}, 7)}, kernel, k_protocol, std::nullopt);
    CHECK(multipath.first.empty());
    CHECK(routes[0].nexthop_id == 0);
    REQUIRE(multipath.last.size() == 3);
    CHECK(multipath.last[0].nexthop.id == 7);
    auto applied = multipath;
    CHECK(nl::nexthops_after(kernel.ours, applied).empty());

    std::vector<nl::Route> none;
    const auto gone = nl::plan_nexthops(none, {route("10.255.0.1/32", {}, 7)}, kernel, k_protocol, k_groups);
    REQUIRE(gone.last.size() == 3);
    CHECK(gone.last[0].nexthop.id == 7);
}

TEST_CASE("nexthop notifications: our echoes are expected, changes behind our back are not", "[unit]") {
    const std::vector<nl::Nexthop> target{gateway(5, "10.0.0.2", 3), group(7, {5})};
    CHECK(nl::nexthop_event_expected(gateway(5, "10.0.0.2", 3), true, target, k_protocol));
    CHECK(nl::nexthop_event_expected(group(7, {5}), true, target, k_protocol));
    CHECK(nl::nexthop_event_expected(gateway(6, "10.0.0.3", 4), false, target, k_protocol));    // we removed it
    CHECK(nl::nexthop_event_expected(gateway(9, "10.0.0.3", 4, 4), true, target, k_protocol));  // someone's own
    CHECK(!nl::nexthop_event_expected(group(7, {5}, 64), true, target, k_protocol));
    CHECK(!nl::nexthop_event_expected(gateway(5, "10.0.0.2", 3), false, target, k_protocol));
    CHECK(!nl::nexthop_event_expected(gateway(7, "10.0.0.9", 3, 4), true, target, k_protocol));
}
