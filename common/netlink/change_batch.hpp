// One pass's nexthop and route changes as one batched netlink transaction, in the order the
// kernel needs: nexthops before the groups holding them, groups before the routes naming
// them; and when removing, routes before groups before nexthops (removing a nexthop object
// removes the routes through it). Each change's request is built just before its chunk is
// sent, from the caller's objects: the changes are never copied, nor their requests held whole.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"

#include <functional>
#include <variant>
#include <vector>

namespace anycast::common::netlink {

// One change as the batch reads it (RouteChangeRef, NexthopChangeRef): the caller's object
// must live until the transaction returns.
using ChangeRef = std::variant<RouteChangeRef, NexthopChangeRef>;

// Sends changes 0 .. count - 1 in that order, change i being change_at(i). Per change: 0,
// k_not_found (a remove of something already gone) or the positive errno; one that cannot be
// encoded (more hops than an attribute holds) fails alone with EMSGSIZE. A failing change
// does not stop the rest.
std::vector<int> apply_changes(Socket& socket, std::size_t count,
                               const std::function<ChangeRef(std::size_t)>& change_at);

struct KernelChanges {
    std::vector<NexthopChange> nexthops_first;  // creates and replaces: members before groups
    std::vector<RouteChange> routes;            // replaces, then removes
    std::vector<NexthopChange> nexthops_last;   // removes: groups before members

    bool empty() const { return nexthops_first.empty() && routes.empty() && nexthops_last.empty(); }
    std::size_t size() const { return nexthops_first.size() + routes.size() + nexthops_last.size(); }
};

// Per change, in the same three lists, as apply_changes answers.
struct ChangeResults {
    std::vector<int> nexthops_first;
    std::vector<int> routes;
    std::vector<int> nexthops_last;
};

ChangeResults apply_kernel_changes(Socket& socket, const KernelChanges& changes);

}  // namespace anycast::common::netlink
