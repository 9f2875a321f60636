// Desired routes (interface names) × the kernel's routes of ours (ifindexes) → the changes
// of one pass (docs/architecture.md section 6). Pure: the kernel dump and link list are read by the
// caller and passed in as values.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/config/node_config.hpp"
#include "reconciler/pipeline/desired_route.hpp"
#include "reconciler/pipeline/link_table.hpp"

#include <cstdint>
#include <vector>

namespace anycast::reconciler {

struct RouteDiff {
    // Every route of ours that should exist after the pass, sorted by destination.
    std::vector<common::netlink::Route> target;
    // The route changes (route_change): replaces carry a route's whole next-hop set in one
    // message (never an append, never a single-hop delete: BIRD drops an IPv6 ECMP prefix
    // then); removes are routes of ours with no installable hop left. Replaces first, in
    // target order (positions in target: no copy of the routes), then removes (the kernel's
    // routes, copied: few).
    std::vector<std::uint32_t> replaced;
    std::vector<common::netlink::Route> removed;
    // The changes to our nexthop objects (none left in multipath mode), applied in one batch
    // with the routes' (common/netlink/change_batch): creates and replaces before the routes,
    // removes after. Our objects after the pass: nexthops_after.
    std::vector<common::netlink::NexthopChange> nexthops_first;
    std::vector<common::netlink::NexthopChange> nexthops_last;
    // Hops that cannot be installed (interface unknown or down).
    std::vector<Skipped> skipped;

    std::size_t route_change_count() const { return replaced.size() + removed.size(); }
    // Route change i, replaces then removes; the route stays the diff's.
    common::netlink::RouteChangeRef route_change(std::size_t i) const {
        using Kind = common::netlink::RouteChange::Kind;
        return i < replaced.size() ? common::netlink::RouteChangeRef{Kind::replace, &target[replaced[i]]}
                                   : common::netlink::RouteChangeRef{Kind::remove, &removed[i - replaced.size()]};
    }
    bool no_changes() const { return route_change_count() == 0 && nexthops_first.empty() && nexthops_last.empty(); }
    std::size_t change_count() const { return route_change_count() + nexthops_first.size() + nexthops_last.size(); }
};

// `kernel` must hold only routes with our protocol in our table (dump_routes filters them),
// `nexthops` the namespace's nexthop objects (dump_nexthops). A desired hop whose interface
// is missing or down is left out of its route and reported; a route left with no hop counts
// as not desired. `settings.ecmp` resilient: every route points at a resilient group of
// nexthop objects (common/netlink/nexthop_changes); multipath: RTA_MULTIPATH, and any objects
// of ours are removed.
RouteDiff diff_desired(const std::vector<DesiredRoute>& desired, const std::vector<common::netlink::Route>& kernel,
                       const LinkTable& links, const common::RouteSettings& settings,
                       const common::netlink::NexthopTable& nexthops = {});
// The same, freeing `desired` once mapped (before the nexthop plan, the larger part).
RouteDiff diff_desired(std::vector<DesiredRoute>&& desired, const std::vector<common::netlink::Route>& kernel,
                       const LinkTable& links, const common::RouteSettings& settings,
                       const common::netlink::NexthopTable& nexthops = {});

// Moves out of `diff.target` every route except those whose replace failed (`results`: per
// route change, as applied): what the kernel now holds of ours, and what the publisher may
// announce. Leaves `diff.target` empty.
std::vector<common::netlink::Route> take_installed(RouteDiff& diff, const std::vector<int>& results);

// Our nexthop objects after the diff was applied to the kernel's `ours` (sorted by id; empty
// in multipath mode). Moves the objects out of `diff.nexthops_first`.
std::vector<common::netlink::Nexthop> take_nexthops(RouteDiff& diff, const std::vector<common::netlink::Nexthop>& ours);

}  // namespace anycast::reconciler
