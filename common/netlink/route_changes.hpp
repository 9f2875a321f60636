// The changes that turn the installed routes into the desired ones (pure).
#pragma once

#include "common/netlink/route.hpp"

#include <cstdint>
#include <vector>

namespace anycast::common::netlink {

// Whether the kernel's `installed` route is `desired` as far as forwarding goes: same table,
// destination, metric, protocol and nexthop object; and, for a route that names no nexthop
// object, the same hops. The hops the kernel shows for a route through a nexthop object are
// that object's business (common/netlink/nexthop_changes follows them).
bool same_route(const Route& installed, const Route& desired);

// The changes by position, so a pass holds no copy of the routes it changes: the desired
// routes to replace (missing or different: same_route), in their order, and the installed
// ones to remove (no longer desired, a second route of ours to a desired destination at
// another metric too), in (table, destination, metric) order.
struct RouteChangeIndices {
    std::vector<std::uint32_t> replaced;  // into desired
    std::vector<std::uint32_t> removed;   // into installed
};

// Equal sets give no change: a no-op re-apply writes nothing. Routes are keyed by (table,
// destination, metric); hop lists must be sorted.
RouteChangeIndices diff_route_indices(const std::vector<Route>& installed, const std::vector<Route>& desired);

// The same as copies: replaces, then removes.
std::vector<RouteChange> diff_routes(const std::vector<Route>& installed, const std::vector<Route>& desired);

}  // namespace anycast::common::netlink
