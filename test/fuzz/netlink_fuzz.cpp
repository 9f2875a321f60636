// Fuzz target netlink: bytes as the kernel's rtnetlink sends them (nlmsghdr laid end to end),
// read both ways the agent reads them: as one datagram of notifications
// (common/netlink/monitor: decode_notifications) and as the parts of a dump, each message
// handed to the route, link, rule and nexthop parsers the dumps use (common/netlink/route_message,
// link, rule, nexthop_message) and the routes merged as dump_routes merges them. A route or
// nexthop object that decodes must encode (build_route_message, build_nexthop_message: what
// serve sends) and decode back to itself (a route through an object without its hops). The parsers answer
// nullopt for what they cannot use; they throw nothing. Seeds: real dumps captured by
// netlink_seeds.cpp.
#include "common/netlink/attributes.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/message.hpp"
#include "common/netlink/monitor.hpp"
#include "common/netlink/nexthop_message.hpp"
#include "common/netlink/route_message.hpp"
#include "common/netlink/rule.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <variant>

namespace {

using namespace anycast;
using namespace anycast::common::netlink;
using anycast::fuzz::require;

void check_route(const Route& route) {
    require(std::is_sorted(route.hops.begin(), route.hops.end()), "a route's hops are sorted");
    for (const auto& hop : route.hops) {
        require(hop.gateway.family() == route.destination.family(), "a hop's gateway is of the route's family");
    }
}

// serve sends what it read back in replace requests: the encoding must carry the same route.
void check_round_trip(const Route& route) {
    MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route_message_capacity(route));
    try {
        build_route_message(message, route);
    } catch (const std::length_error&) {
        return;  // documented: more hops than one RTA_MULTIPATH holds
    }
    const auto again = parse_route(message.header());
    require(again.has_value(), "an encoded route decodes");
    // A route through a nexthop object is sent by its id alone: the hops the kernel expands
    // it to are the object's.
    Route sent = route;
    if (sent.nexthop_id != 0) sent.hops.clear();
    require(again->route == sent, "a route decodes as it was encoded");
    require(again->type == RTN_UNICAST && !again->cloned, "an encoded route is unicast, not a clone");
}

// serve sends back the objects it adopted (a group replace): the encoding must carry them.
void check_nexthop_round_trip(const Nexthop& nexthop) {
    MessageBuilder message(RTM_NEWNEXTHOP, NLM_F_CREATE, nexthop_message_capacity(nexthop));
    build_nexthop_message(message, nexthop);
    const auto again = parse_nexthop(message.header());
    require(again.has_value(), "an encoded nexthop decodes");
    require(*again == nexthop, "a nexthop decodes as it was encoded");
}

void check_events(const std::vector<Event>& events) {
    for (const auto& event : events) {
        if (const auto* route = std::get_if<RouteEvent>(&event)) check_route(route->route);
        if (const auto* nexthop = std::get_if<NexthopEvent>(&event)) check_nexthop_round_trip(nexthop->nexthop);
        if (const auto* link = std::get_if<LinkEvent>(&event); link && link->kind == LinkEvent::Kind::renamed) {
            require(link->old_name != link->link.name, "a renamed link has a new name");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    // As the monitor reads a datagram, with a link table as Monitor::open leaves it.
    std::map<int, std::string> link_names{{1, "lo"}, {2, "eth0"}};
    std::vector<Event> events;
    decode_notifications(data, size, link_names, events);
    check_events(events);

    // As Socket::dump hands messages to the dump callbacks (dump_routes, list_links) and the
    // monitor to parse_rule.
    std::vector<Route> routes;
    const auto* message = reinterpret_cast<const nlmsghdr*>(data);
    int remaining = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    while (message_fits(message, remaining)) {
        if (message->nlmsg_type >= NLMSG_MIN_TYPE) {
            if (auto parsed = parse_route(*message)) {
                check_route(parsed->route);
                check_round_trip(parsed->route);
                if (!parsed->cloned && parsed->type == RTN_UNICAST) routes.push_back(std::move(parsed->route));
            }
            if (auto link = parse_link(*message)) require(link->name.size() < 65536, "a link name fits its attribute");
            (void)parse_rule(*message);
            if (auto nexthop = parse_nexthop(*message)) check_nexthop_round_trip(*nexthop);
        }
        message = mnl_nlmsg_next(message, &remaining);
    }
    const std::size_t before = routes.size();
    const auto merged = merge_routes(std::move(routes));
    require(merged.size() <= before, "merging never adds routes");
    for (std::size_t i = 0; i < merged.size(); ++i) {
        check_route(merged[i]);
        require(std::adjacent_find(merged[i].hops.begin(), merged[i].hops.end()) == merged[i].hops.end(),
                "merged hops are unique");
        if (i > 0) require(!(merged[i].destination < merged[i - 1].destination), "merged routes sorted");
    }
    return 0;
}
