// Routes: lookups, dumps of our table/protocol, replace and delete, batched.
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/socket.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

namespace anycast::common::netlink {

struct NextHop {
    IpAddress gateway;
    int ifindex;
    auto operator<=>(const NextHop&) const = default;
};

struct Route {
    Prefix destination;
    std::vector<NextHop> hops;  // sorted, so equal sets compare equal
    int protocol;               // rtm_protocol
    std::uint32_t table;
    // RTA_PRIORITY (the metric); 0 is the family's default (IPv4 0, IPv6 1024, which a
    // dump reports and parse_route maps back to 0). Two routes to one destination at two
    // metrics are two routes.
    std::uint32_t priority = 0;
    // RTA_NH_ID: the route forwards through this nexthop object (common/netlink/nexthop.hpp)
    // instead of its own hops; `hops` then only tell what it expands to (empty when the kernel
    // does not expand it: net.ipv4.nexthop_compat_mode=0).
    std::uint32_t nexthop_id = 0;
    friend bool operator==(const Route&, const Route&) = default;
};

// What tells two routes of ours apart in the kernel (table, destination, metric): the order of
// the diff's and the nexthop plan's lookups. Refers to the route's destination.
using RouteKey = std::tuple<std::uint32_t, const Prefix&, std::uint32_t>;
inline RouteKey route_key(const Route& route) { return {route.table, route.destination, route.priority}; }

// The metric the kernel stores for priority 0 (IPv6 routes default to 1024).
inline constexpr std::uint32_t k_ipv6_default_priority = 1024;

// Routes and their next hops per address family: what the metrics and `status` report.
struct FamilyCounts {
    std::size_t routes = 0;
    std::size_t hops = 0;
};
struct RouteCounts {
    FamilyCounts v4, v6;
};
inline RouteCounts count_by_family(const std::vector<Route>& routes) {
    RouteCounts counts;
    for (const auto& route : routes) {
        FamilyCounts& family = route.destination.family() == Family::v4 ? counts.v4 : counts.v6;
        family.routes += 1;
        family.hops += route.hops.size();
    }
    return counts;
}

struct RouteLookup {
    int ifindex;
    std::optional<IpAddress> gateway;  // nullopt: directly connected
};

// Which interface and gateway the kernel would use for `destination` (RTM_GETROUTE).
// Throws NetlinkError (e.g. ENETUNREACH) when there is no route.
RouteLookup lookup_route(Socket& socket, const IpAddress& destination);

// Every unicast route of `table` with rtm_protocol == `protocol`, IPv4 and IPv6, one Route
// per destination and metric with all its hops (IPv6 multipath routes reported hop by hop
// are merged).
// `expected` is reserved up front (the caller's guess, as for dump_nexthops).
std::vector<Route> dump_routes(Socket& socket, std::uint32_t table, int protocol, std::size_t expected = 0);

struct RouteChange {
    enum class Kind { replace, remove } kind;
    Route route;
};

// A change to a route held elsewhere (a pass's target): what the batch and the logs read,
// instead of a copy of every route.
struct RouteChangeRef {
    RouteChange::Kind kind;
    const Route* route;
};

// A delete of a route that does not exist (the kernel's ESRCH/ENOENT): distinct from errnos.
inline constexpr int k_not_found = -1;

// Applies all changes as one batched transaction (common/netlink/change_batch.cpp). result[i] is 0, k_not_found (remove
// of a missing route) or the positive errno of change i; a failing change does not stop the rest.
std::vector<int> apply_route_changes(Socket& socket, const std::vector<RouteChange>& changes);

// Replace (NLM_F_CREATE|NLM_F_REPLACE): afterwards the route has exactly `route.hops`.
// IPv6 too: the kernel replaces the whole sibling set of a multipath route on NLM_F_REPLACE
// with RTA_MULTIPATH (it adds the first hop as a replace, the rest as appends to it), so no
// delete-then-add is needed; test/integration/common/netlink/route_test.cpp checks 3 -> 2 -> 1 -> 2
// hops read back exactly, v4 and v6 (measured on Linux 6.18). Throws NetlinkError.
void replace_route(Socket& socket, const Route& route);
// Returns false when there was no such route; throws NetlinkError on other errors.
bool delete_route(Socket& socket, const Route& route);

}  // namespace anycast::common::netlink
