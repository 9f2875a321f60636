// Routes: lookups, dumps of our table/protocol, replace and delete, batched.
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/socket.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
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
    friend bool operator==(const Route&, const Route&) = default;
};

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
// per destination with all its hops (IPv6 multipath routes reported hop by hop are merged).
std::vector<Route> dump_routes(Socket& socket, std::uint32_t table, int protocol);

struct RouteChange {
    enum class Kind { replace, remove } kind;
    Route route;
};

// A delete of a route that does not exist (the kernel's ESRCH/ENOENT): distinct from errnos.
inline constexpr int k_not_found = -1;

// Applies all changes as one batched transaction. result[i] is 0, k_not_found (remove of a
// missing route) or the positive errno of change i; a failing change does not stop the rest.
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
