// Encoding and decoding of RTM_*ROUTE messages, without a socket (unit-testable).
#pragma once

#include "common/netlink/message.hpp"
#include "common/netlink/route.hpp"

#include <optional>
#include <string>

namespace anycast::common::netlink {

// RTM_NEWROUTE (NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELROUTE for `route`: unicast, universe
// scope, rtm_protocol = route.protocol, the table in rtm_table or RTA_TABLE when > 255,
// the metric in RTA_PRIORITY, and RTA_NH_ID when it uses a nexthop object, else
// one hop as RTA_GATEWAY + RTA_OIF, several as RTA_MULTIPATH. Throws std::length_error when
// the hops do not fit one RTA_MULTIPATH (its length is 16 bits: about 2 300 IPv6 hops).
void build_route_message(MessageBuilder& message, const Route& route);

// The capacity a MessageBuilder needs for build_route_message(route): it grows with the hops.
std::size_t route_message_capacity(const Route& route);

// "RTM_NEWROUTE 10.9.0.1/32 table 241" for errors.
std::string describe_route_request(std::uint16_t type, const Route& route);

// A route as the kernel sent it (dump or notification).
struct ParsedRoute {
    Route route;
    std::uint8_t type;  // rtm_type (RTN_UNICAST, ...)
    bool cloned;        // RTM_F_CLONED: a cache entry, not a configured route
};
// Decodes RTM_NEWROUTE/RTM_DELROUTE; nullopt if malformed or not IPv4/IPv6.
std::optional<ParsedRoute> parse_route(const nlmsghdr& message);

// Merges routes with the same table, destination and metric into one with the union of their
// hops, sorted (IPv6 multipath can arrive as one message per hop). Output sorted by
// destination, then metric.
std::vector<Route> merge_routes(std::vector<Route> routes);

}  // namespace anycast::common::netlink
