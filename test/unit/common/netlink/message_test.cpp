// Netlink encoding and decoding without a kernel: route messages round-trip, malformed input
// is rejected, per-hop IPv6 dumps merge, diffs of route sets.
#include "common/netlink/attributes.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/message.hpp"
#include "common/netlink/route_changes.hpp"
#include "common/netlink/route_message.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/socket.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <utility>
#include <stdexcept>

namespace nl = anycast::common::netlink;
using anycast::common::Family;
using anycast::common::IpAddress;
using anycast::common::Prefix;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Prefix prefix(const char* text) { return *Prefix::parse(text); }

nl::Route route(const char* destination, std::vector<nl::NextHop> hops, std::uint32_t table = 241) {
    std::sort(hops.begin(), hops.end());
    return nl::Route{prefix(destination), std::move(hops), 241, table};
}

const rtmsg& header_of(const nl::MessageBuilder& message) {
    return *static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&message.header()));
}

}  // namespace

TEST_CASE("route messages round-trip through build and parse", "[unit]") {
    const std::vector<nl::Route> routes{
        route("10.255.0.1/32", {{ip("10.99.1.2"), 3}}),
        route("10.255.0.2/32", {{ip("10.99.1.2"), 3}, {ip("10.99.2.2"), 4}, {ip("10.99.3.2"), 5}}),
        route("fd00:255::1/128", {{ip("fd00:99::2"), 3}}),
        route("fd00:255::2/128", {{ip("fd00:99::2"), 3}, {ip("fd00:98::2"), 7}}),
        route("10.255.0.3/32", {{ip("10.99.1.2"), 3}}, 100000),
        route("fd00:255::3/128", {{ip("fd00:99::2"), 3}, {ip("fd00:98::2"), 7}}, 254),
    };
    for (const auto& original : routes) {
        DYNAMIC_SECTION(nl::describe_route_request(RTM_NEWROUTE, original)) {
            nl::MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
            nl::build_route_message(message, original);
            const rtmsg& header = header_of(message);
            CHECK(header.rtm_type == RTN_UNICAST);
            CHECK(header.rtm_scope == RT_SCOPE_UNIVERSE);
            CHECK(header.rtm_protocol == 241);
            CHECK(header.rtm_table == (original.table > 255 ? 0 : original.table));
            CHECK((message.header().nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_REQUEST)) ==
                  (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_REQUEST));
            const auto parsed = nl::parse_route(message.header());
            REQUIRE(parsed);
            CHECK(parsed->route == original);
            CHECK(parsed->type == RTN_UNICAST);
            CHECK_FALSE(parsed->cloned);
        }
    }
}

TEST_CASE("a single hop is sent as RTA_GATEWAY and RTA_OIF, several as RTA_MULTIPATH", "[unit]") {
    nl::MessageBuilder single(RTM_NEWROUTE, 0);
    nl::build_route_message(single, route("10.255.0.1/32", {{ip("10.99.1.2"), 3}}));
    auto attributes = nl::Attributes::parse(single.header(), sizeof(rtmsg), RTA_MAX,
                                            {{RTA_GATEWAY, MNL_TYPE_BINARY, 4},
                                             {RTA_OIF, MNL_TYPE_U32, 0},
                                             {RTA_MULTIPATH, MNL_TYPE_BINARY, 0},
                                             {RTA_TABLE, MNL_TYPE_U32, 0}});
    REQUIRE(attributes);
    CHECK(attributes->has(RTA_GATEWAY));
    CHECK(attributes->u32(RTA_OIF) == 3u);
    CHECK_FALSE(attributes->has(RTA_MULTIPATH));
    CHECK_FALSE(attributes->has(RTA_TABLE));

    nl::MessageBuilder multi(RTM_NEWROUTE, 0);
    nl::build_route_message(multi, route("10.255.0.1/32", {{ip("10.99.1.2"), 3}, {ip("10.99.2.2"), 4}}, 1000));
    attributes = nl::Attributes::parse(multi.header(), sizeof(rtmsg), RTA_MAX,
                                       {{RTA_GATEWAY, MNL_TYPE_BINARY, 0},
                                        {RTA_OIF, MNL_TYPE_U32, 0},
                                        {RTA_MULTIPATH, MNL_TYPE_BINARY, 0},
                                        {RTA_TABLE, MNL_TYPE_U32, 0}});
    REQUIRE(attributes);
    CHECK_FALSE(attributes->has(RTA_GATEWAY));
    CHECK_FALSE(attributes->has(RTA_OIF));
    CHECK(attributes->has(RTA_MULTIPATH));
    CHECK(attributes->u32(RTA_TABLE) == 1000u);
}

TEST_CASE("a delete names destination, table and protocol but no hops, any scope", "[unit]") {
    nl::MessageBuilder message(RTM_DELROUTE, 0);
    nl::build_route_message(message, route("fd00:255::1/128", {{ip("fd00:99::2"), 3}, {ip("fd00:98::2"), 7}}));
    CHECK(header_of(message).rtm_scope == RT_SCOPE_NOWHERE);
    const auto parsed = nl::parse_route(message.header());
    REQUIRE(parsed);
    CHECK(parsed->route.destination == prefix("fd00:255::1/128"));
    CHECK(parsed->route.protocol == 241);
    CHECK(parsed->route.table == 241);
    CHECK(parsed->route.hops.empty());
}

TEST_CASE("malformed route messages are rejected, not trusted", "[unit]") {
    // Each case writes a message after the netlink header; none may parse.
    auto header = [](nl::MessageBuilder& message, unsigned char family, unsigned char length) {
        auto& rtm = message.family_header<rtmsg>();
        rtm.rtm_family = family;
        rtm.rtm_dst_len = length;
        rtm.rtm_type = RTN_UNICAST;
    };
    auto v4_with_hop_length = [&](nl::MessageBuilder& message, unsigned short length) {
        header(message, AF_INET, 32);
        message.put_address(RTA_DST, ip("10.0.0.1"));
        nlattr* nest = message.begin_nest(RTA_MULTIPATH);
        auto* hop = static_cast<rtnexthop*>(message.reserve(sizeof(rtnexthop)));
        message.put_address(RTA_GATEWAY, ip("10.99.0.2"));
        hop->rtnh_len = length;
        message.end_nest(nest);
    };
    const std::vector<std::pair<const char*, std::function<void(nl::MessageBuilder&)>>> cases{
        {"destination of the wrong size",
         [&](auto& m) {
             header(m, AF_INET, 32);
             m.put(RTA_DST, "\x0a\x00\x00", 3);
         }},
        {"gateway of the wrong size",
         [&](auto& m) {
             header(m, AF_INET6, 128);
             m.put_address(RTA_DST, ip("fd00::1"));
             m.put_address(RTA_GATEWAY, ip("10.0.0.1"));
         }},
        {"RTA_OIF that is not a u32",
         [&](auto& m) {
             header(m, AF_INET, 32);
             m.put(RTA_OIF, "\x01\x00", 2);
         }},
        {"prefix length beyond the family's",
         [&](auto& m) {
             header(m, AF_INET, 33);
             m.put_address(RTA_DST, ip("10.0.0.1"));
         }},
        {"an rtnexthop claiming more bytes than RTA_MULTIPATH holds", [&](auto& m) { v4_with_hop_length(m, 200); }},
        {"an rtnexthop shorter than its own header", [&](auto& m) { v4_with_hop_length(m, 2); }},
        {"a message too short for its rtmsg", [](auto&) {}},
        {"an unknown family", [&](auto& m) { header(m, AF_UNIX, 0); }},
    };
    for (const auto& [name, fill] : cases) {
        DYNAMIC_SECTION(name) {
            nl::MessageBuilder message(RTM_NEWROUTE, 0);
            fill(message);
            CHECK_FALSE(nl::parse_route(message.header()));
        }
    }
}

TEST_CASE("a message is walked only when it lies inside the buffer, its padding included", "[unit]") {
    alignas(nlmsghdr) std::uint8_t buffer[32] = {};
    auto* message = reinterpret_cast<nlmsghdr*>(buffer);
    message->nlmsg_len = 32;
    CHECK(nl::message_fits(message, 32));
    CHECK_FALSE(nl::message_fits(message, 31));
    // Negative as an int: libmnl's mnl_nlmsg_ok lets it through (found by fuzzing, test/fuzz/).
    message->nlmsg_len = 0x80000010;
    CHECK_FALSE(nl::message_fits(message, 32));
    message->nlmsg_len = 0xfffffffe;  // NLMSG_ALIGN of it wraps to 0 in 32 bits
    CHECK_FALSE(nl::message_fits(message, 32));
    message->nlmsg_len = 18;  // padded to 20, which mnl_attr_parse walks up to
    CHECK(nl::message_fits(message, 20));
    CHECK_FALSE(nl::message_fits(message, 18));
    message->nlmsg_len = 8;  // shorter than its own header
    CHECK_FALSE(nl::message_fits(message, 32));
    CHECK_FALSE(nl::message_fits(message, 8));
}

TEST_CASE("attribute types beyond the maximum are ignored, not rejected", "[unit]") {
    nl::MessageBuilder message(RTM_NEWROUTE, 0);
    auto& header = message.family_header<rtmsg>();
    header.rtm_family = AF_INET;
    header.rtm_dst_len = 32;
    header.rtm_type = RTN_UNICAST;
    message.put_address(RTA_DST, ip("10.0.0.1"));
    message.put_u32(RTA_MAX + 5, 7);  // from a kernel newer than our headers
    const auto parsed = nl::parse_route(message.header());
    REQUIRE(parsed);
    CHECK(parsed->route.destination == prefix("10.0.0.1/32"));
}

TEST_CASE("the message builder refuses to overflow its buffer", "[unit]") {
    nl::MessageBuilder message(RTM_NEWROUTE, 0);
    message.family_header<rtmsg>();
    const std::vector<std::uint8_t> big(1000, 0);
    CHECK_THROWS_AS(
        [&] {
            for (int i = 0; i < 10; ++i) message.put(RTA_DST, big.data(), big.size());
        }(),
        std::length_error);
    CHECK(message.header().nlmsg_len <= message.capacity());
}

namespace {

// `count` hops on interfaces 3, 4 and 5 in turn, each with its own gateway.
std::vector<nl::NextHop> many_hops(Family family, int count) {
    std::vector<nl::NextHop> hops;
    for (int i = 0; i < count; ++i) {
        const std::string gateway = family == Family::v4 ? fmt::format("10.98.{}.{}", i / 250, i % 250 + 2)
                                                         : fmt::format("fd00:98::{:x}", i + 2);
        hops.push_back({ip(gateway.c_str()), 3 + i % 3});
    }
    std::sort(hops.begin(), hops.end());
    return hops;
}

}  // namespace

TEST_CASE("a route with 1 000 next hops is sized to its content and round-trips, IPv4 and IPv6", "[unit]") {
    for (const auto& [destination, family] :
         {std::pair{"10.255.0.1/32", Family::v4}, std::pair{"fd00:255::1/128", Family::v6}}) {
        const nl::Route original = route(destination, many_hops(family, 1000));
        nl::MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, nl::route_message_capacity(original));
        nl::build_route_message(message, original);
        CHECK(message.header().nlmsg_len <= message.capacity());
        const auto parsed = nl::parse_route(message.header());
        REQUIRE(parsed);
        CHECK(parsed->route == original);
    }
}

TEST_CASE("hops beyond what one RTA_MULTIPATH can carry are refused, never sent with a wrapped length", "[unit]") {
    const nl::Route huge = route("fd00:255::1/128", many_hops(Family::v6, 3000));  // 3 000 x 28 bytes > 65 535
    nl::MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, nl::route_message_capacity(huge));
    CHECK_THROWS_AS(nl::build_route_message(message, huge), std::length_error);
}

TEST_CASE("IPv6 multipath reported hop by hop merges into one route with all hops", "[unit]") {
    const std::vector<nl::Route> parts{
        route("fd00:255::1/128", {{ip("fd00:99::2"), 3}}),
        route("10.255.0.1/32", {{ip("10.99.1.2"), 3}}),
        route("fd00:255::1/128", {{ip("fd00:98::2"), 7}}),
        route("fd00:255::1/128", {{ip("fd00:99::2"), 3}}),        // repeated: counted once
        route("fd00:255::1/128", {{ip("fd00:97::2"), 9}}, 1000),  // other table: kept apart
    };
    const auto merged = nl::merge_routes(parts);
    REQUIRE(merged.size() == 3);
    CHECK(merged[0] == route("10.255.0.1/32", {{ip("10.99.1.2"), 3}}));
    const auto v6 = std::find_if(merged.begin(), merged.end(),
                                 [](const nl::Route& r) { return r.table == 241 && !r.destination.address().is_v4(); });
    REQUIRE(v6 != merged.end());
    CHECK(*v6 == route("fd00:255::1/128", {{ip("fd00:99::2"), 3}, {ip("fd00:98::2"), 7}}));
}

TEST_CASE("diffing route sets yields replaces for new or changed routes and removes for stale ones", "[unit]") {
    const auto a = route("10.255.0.1/32", {{ip("10.99.1.2"), 3}});
    const auto b = route("10.255.0.2/32", {{ip("10.99.1.2"), 3}, {ip("10.99.2.2"), 4}});
    const auto b_fewer = route("10.255.0.2/32", {{ip("10.99.2.2"), 4}});
    const auto c = route("fd00:255::1/128", {{ip("fd00:99::2"), 3}});

    CHECK(nl::diff_routes({a, b, c}, {c, b, a}).empty());  // same set, any order: no writes
    CHECK(nl::diff_routes({}, {}).empty());

    const auto changes = nl::diff_routes({a, b}, {b_fewer, c});
    REQUIRE(changes.size() == 3);
    CHECK(changes[0].kind == nl::RouteChange::Kind::replace);
    CHECK(changes[0].route == b_fewer);
    CHECK(changes[1].kind == nl::RouteChange::Kind::replace);
    CHECK(changes[1].route == c);
    CHECK(changes[2].kind == nl::RouteChange::Kind::remove);
    CHECK(changes[2].route == a);

    // The same destination in two tables is two routes.
    auto other_table = a;
    other_table.table = 1000;
    const auto both = nl::diff_routes({a}, {a, other_table});
    REQUIRE(both.size() == 1);
    CHECK(both[0].route == other_table);
}

TEST_CASE("route changes by position: replaces in desired order, removes in key order", "[unit]") {
    const auto a = route("10.255.0.1/32", {{ip("10.99.1.2"), 3}});
    const auto b = route("10.255.0.2/32", {{ip("10.99.1.2"), 3}});
    const auto b_moved = route("10.255.0.2/32", {{ip("10.99.2.2"), 4}});
    const auto c = route("10.255.0.3/32", {{ip("10.99.1.2"), 3}});
    const auto d = route("fd00:255::1/128", {{ip("fd00:99::2"), 3}});
    const auto changes = nl::diff_route_indices({d, c, b, a}, {b_moved, a, d});
    CHECK(changes.replaced == std::vector<std::uint32_t>{0});
    CHECK(changes.removed == std::vector<std::uint32_t>{1});  // c

    // A key installed twice (a dump never has it) counts once, as the first: the other is
    // neither matched nor removed, like the tree of routes this replaced.
    auto a_again = a;
    a_again.hops = {{ip("10.99.3.2"), 5}};
    const auto twice = nl::diff_route_indices({a, a_again, c}, {a});
    CHECK(twice.replaced.empty());
    CHECK(twice.removed == std::vector<std::uint32_t>{2});
    // The desired list naming a key twice replaces the second.
    CHECK(nl::diff_route_indices({a}, {a, a}).replaced == std::vector<std::uint32_t>{1});
}

TEST_CASE("link messages decode name, index and state; a missing name is malformed", "[unit]") {
    nl::MessageBuilder message(RTM_NEWLINK, 0);
    auto& info = message.family_header<ifinfomsg>();
    info.ifi_index = 12;
    info.ifi_flags = IFF_UP;
    message.put_string(IFLA_IFNAME, "veth0");
    const auto link = nl::parse_link(message.header());
    REQUIRE(link);
    CHECK(*link == nl::Link{12, "veth0", true});

    nl::MessageBuilder unnamed(RTM_NEWLINK, 0);
    unnamed.family_header<ifinfomsg>().ifi_index = 3;
    CHECK_FALSE(nl::parse_link(unnamed.header()));

    nl::MessageBuilder unterminated(RTM_NEWLINK, 0);
    unterminated.family_header<ifinfomsg>().ifi_index = 3;
    unterminated.put(IFLA_IFNAME, "abcd", 4);  // no NUL: refused by the string policy
    CHECK_FALSE(nl::parse_link(unterminated.header()));
}

TEST_CASE("netlink errors name the request, the errno text and the kernel's reason", "[unit]") {
    const nl::NetlinkError plain(ENODEV, "set link 7 up");
    CHECK(std::string(plain.what()) == "set link 7 up: No such device");
    CHECK(plain.error_number() == ENODEV);
    const nl::NetlinkError explained(ENETUNREACH, "RTM_NEWROUTE 10.0.0.1/32 table 241", "Nexthop has invalid gateway");
    CHECK(std::string(explained.what()) ==
          "RTM_NEWROUTE 10.0.0.1/32 table 241: Network is unreachable (kernel: Nexthop has invalid gateway)");
    CHECK(explained.request() == "RTM_NEWROUTE 10.0.0.1/32 table 241");
    CHECK(explained.kernel_message() == "Nexthop has invalid gateway");
}

TEST_CASE("a request batch keeps complete, aligned messages in order", "[unit]") {
    nl::RequestBatch batch;
    nl::MessageBuilder first(RTM_NEWROUTE, 0);
    nl::build_route_message(first, route("10.255.0.1/32", {{ip("10.99.1.2"), 3}}));
    nl::MessageBuilder second(RTM_DELROUTE, 0);
    nl::build_route_message(second, route("fd00:255::1/128", {{ip("fd00:99::2"), 3}}));
    batch.add(first.header());
    batch.add(second.header());
    CHECK(batch.size() == 2);
    batch.clear();
    CHECK(batch.empty());
}

TEST_CASE("rule notifications decode family, priority and table; other families are not ours", "[unit]") {
    const auto rule_message = [](std::uint8_t family, std::uint32_t priority, std::uint32_t table) {
        auto message = std::make_unique<nl::MessageBuilder>(RTM_DELRULE, 0);
        auto& header = message->family_header<fib_rule_hdr>();
        header.family = family;
        header.action = FR_ACT_TO_TBL;
        message->put_u32(FRA_PRIORITY, priority);
        message->put_u32(FRA_TABLE, table);
        return message;
    };
    CHECK(nl::parse_rule(rule_message(AF_INET, 1000, 241)->header()) == nl::Rule{Family::v4, 1000, 241});
    CHECK(nl::parse_rule(rule_message(AF_INET6, 7, 100000)->header()) == nl::Rule{Family::v6, 7, 100000});
    CHECK_FALSE(nl::parse_rule(rule_message(AF_UNSPEC, 1000, 241)->header()));
    auto truncated = rule_message(AF_INET, 1000, 241);
    truncated->header().nlmsg_len = NLMSG_LENGTH(2);  // shorter than fib_rule_hdr
    CHECK_FALSE(nl::parse_rule(truncated->header()));
}
