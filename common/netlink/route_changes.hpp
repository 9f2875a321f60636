// The changes that turn the installed routes into the desired ones (pure).
#pragma once

#include "common/netlink/route.hpp"

#include <vector>

namespace anycast::common::netlink {

// Replaces for routes missing or different (hops, protocol), removes for routes installed
// but no longer desired. Equal sets give no change: a no-op re-apply writes nothing.
// Routes are keyed by (table, destination); hop lists must be sorted.
std::vector<RouteChange> diff_routes(const std::vector<Route>& installed, const std::vector<Route>& desired);

}  // namespace anycast::common::netlink
