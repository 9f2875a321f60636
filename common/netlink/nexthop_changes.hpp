// The nexthop objects a pass needs and the changes that make them so (pure): in resilient
// mode one object per (gateway, interface) and one resilient group per route; in multipath
// mode none (ours left over are removed). docs/ecmp.md.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace anycast::common::netlink {

struct ResilientGroupSettings {
    std::uint16_t buckets;
    std::uint32_t idle_seconds;
};

// The changes alone: ours after the pass are the kernel's with these applied
// (nexthops_after), so no pass holds a second copy of every object (a cold pass of 20 000
// resilient routes makes 40 000 of them).
struct NexthopPlan {
    std::vector<NexthopChange> first;  // creates and replaces: members, then groups
    std::vector<NexthopChange> last;   // removes: groups, then members
};

// `routes` are the target routes with their hops. With `resilient`, each route is pointed
// (nexthop_id) at its group: the group the installed route already names, when it is ours,
// resilient and of the same bucket count (then replaced only if its members or idle timer
// differ, which keeps its bucket table), else a new one. A member is the object of ours with
// the same gateway and interface, else a new one. New ids are free in `kernel` (ours and
// everyone else's), counted from protocol << 24 so ours are easy to tell apart. Objects of
// ours nothing uses any more are removed. Without `resilient` the routes keep their hops and
// all our objects are removed. No difference, no change.
NexthopPlan plan_nexthops(std::vector<Route>& routes, const std::vector<Route>& installed, const NexthopTable& kernel,
                          int protocol, const std::optional<ResilientGroupSettings>& resilient);

// Our objects once `plan` is applied to `ours` (the kernel's): those kept,
// replaced or created, sorted by id. Moves the objects out of `plan.first`, so call it after
// the plan went to the kernel.
std::vector<Nexthop> nexthops_after(const std::vector<Nexthop>& ours, NexthopPlan& plan);

// Whether a nexthop notification is our own change echoed back (an object of `target` added
// as it is, or one not in `target` deleted), or someone else's object that leaves ours alone:
// false means ours were changed behind our back and the kernel must be read again.
bool nexthop_event_expected(const Nexthop& nexthop, bool added, const std::vector<Nexthop>& target, int protocol);

}  // namespace anycast::common::netlink
