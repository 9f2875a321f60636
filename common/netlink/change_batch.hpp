// One pass's nexthop and route changes as one batched netlink transaction, in the order the
// kernel needs: nexthops before the groups holding them, groups before the routes naming
// them; and when removing, routes before groups before nexthops (removing a nexthop object
// removes the routes through it).
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"

#include <vector>

namespace anycast::common::netlink {

struct KernelChanges {
    std::vector<NexthopChange> nexthops_first;  // creates and replaces: members before groups
    std::vector<RouteChange> routes;            // replaces, then removes
    std::vector<NexthopChange> nexthops_last;   // removes: groups before members

    bool empty() const { return nexthops_first.empty() && routes.empty() && nexthops_last.empty(); }
    std::size_t size() const { return nexthops_first.size() + routes.size() + nexthops_last.size(); }
};

// Per change, in the same three lists: 0, k_not_found (a remove of something already gone) or
// the positive errno. A failing change does not stop the rest.
struct ChangeResults {
    std::vector<int> nexthops_first;
    std::vector<int> routes;
    std::vector<int> nexthops_last;
};

ChangeResults apply_kernel_changes(Socket& socket, const KernelChanges& changes);

}  // namespace anycast::common::netlink
