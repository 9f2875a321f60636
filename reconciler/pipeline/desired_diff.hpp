// Desired routes (interface names) × the kernel's routes of ours (ifindexes) → the changes
// of one pass (docs/architecture.md section 6). Pure: the kernel dump and link list are read by the
// caller and passed in as values.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/config/node_config.hpp"
#include "reconciler/pipeline/desired_route.hpp"
#include "reconciler/pipeline/link_table.hpp"

#include <vector>

namespace anycast::reconciler {

struct RouteDiff {
    // Every route of ours that should exist after the pass, sorted by destination.
    std::vector<common::netlink::Route> target;
    // Replaces carry a route's whole next-hop set in one message (never an append, never a
    // single-hop delete: BIRD drops an IPv6 ECMP prefix then); removes are routes of ours
    // with no installable hop left. Replaces first, in target order, then removes.
    std::vector<common::netlink::RouteChange> changes;
    // Our nexthop objects after the pass (none in multipath mode), sorted by id; and the
    // changes to them, applied in one batch with the routes' (common/netlink/change_batch):
    // creates and replaces before the routes, removes after.
    std::vector<common::netlink::Nexthop> nexthop_target;
    std::vector<common::netlink::NexthopChange> nexthops_first;
    std::vector<common::netlink::NexthopChange> nexthops_last;
    // Hops that cannot be installed (interface unknown or down).
    std::vector<Skipped> skipped;

    bool no_changes() const { return changes.empty() && nexthops_first.empty() && nexthops_last.empty(); }
    std::size_t change_count() const { return changes.size() + nexthops_first.size() + nexthops_last.size(); }
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

// Moves out of `diff.target` every route except those whose replace failed (`results` as
// returned by apply_route_changes for `diff.changes`): what the kernel now holds of ours, and
// what the publisher may announce. Leaves `diff.target` empty.
std::vector<common::netlink::Route> take_installed(RouteDiff& diff, const std::vector<int>& results);

}  // namespace anycast::reconciler
