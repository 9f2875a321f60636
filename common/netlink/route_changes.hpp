// The changes that turn the installed routes into the desired ones (pure).
#pragma once

#include "common/netlink/route.hpp"

#include <vector>

namespace anycast::common::netlink {

// Whether the kernel's `installed` route is `desired` as far as forwarding goes: same table,
// destination, metric, protocol and nexthop object; and, for a route that names no nexthop
// object, the same hops. The hops the kernel shows for a route through a nexthop object are
// that object's business (common/netlink/nexthop_changes follows them).
bool same_route(const Route& installed, const Route& desired);

// Replaces for routes missing or different (same_route), removes for routes installed but no
// longer desired (a second route of ours to a desired destination at another metric too).
// Equal sets give no change: a no-op re-apply writes nothing. Routes are keyed by (table,
// destination, metric); hop lists must be sorted.
std::vector<RouteChange> diff_routes(const std::vector<Route>& installed, const std::vector<Route>& desired);

}  // namespace anycast::common::netlink
