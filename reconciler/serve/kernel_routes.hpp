// serve's effects on the kernel, at the edge of the pure core: read our routes and the
// links, apply one pass's changes as one batched transaction, withdraw everything of ours,
// and keep the `ip rule` that makes the kernel consult our table.
#pragma once

#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"
#include "common/config/node_config.hpp"
#include "reconciler/pipeline/link_table.hpp"
#include "reconciler/pipeline/desired_diff.hpp"

#include <cstddef>
#include <vector>

namespace anycast::reconciler {

struct KernelView {
    std::vector<common::netlink::Route> routes;  // ours only: our protocol in our table
    LinkTable links;
    common::netlink::NexthopTable nexthops = {};  // ours (our protocol) and the others' ids
};

// Throws NetlinkError when the kernel cannot be read. `expected` holds the sizes to reserve
// (serve: the last pass's), so the lists are not grown by doubling.
struct KernelSizes {
    std::size_t routes = 0;
    std::size_t nexthops = 0;
};
KernelView read_kernel(common::netlink::Socket& socket, const common::RouteSettings& settings,
                       const KernelSizes& expected = {});

struct ApplyOutcome {
    std::vector<int> results;  // per route change of the diff: 0, k_not_found or an errno
    std::size_t errors = 0;    // refused changes, nexthop ones too (a delete of one already gone is fine)
};

// One batched transaction for all of the diff's nexthop and route changes; each refusal
// logged with the route or nexthop object.
ApplyOutcome apply_changes(common::netlink::Socket& socket, const RouteDiff& diff, const LinkTable& links);

// --dry-run: logs the nexthop changes the diff would make (one line each).
void log_nexthop_dry_run(const RouteDiff& diff);

// Deletes every route with our protocol in our table, then every nexthop object with our
// protocol (groups before members); returns how many routes were deleted.
std::size_t withdraw_all(common::netlink::Socket& socket, const common::RouteSettings& settings);

// Whether routes in `settings.table` need a rule: not in main (254), which the kernel
// consults anyway.
bool needs_rule(const common::RouteSettings& settings);
// The rule "priority P lookup T" for IPv4 and IPv6, unless the table is main (254).
// Failures (e.g. IPv6 disabled) are logged per family, not thrown; false if any failed.
bool ensure_rules(common::netlink::Socket& socket, const common::RouteSettings& settings);
bool remove_rules(common::netlink::Socket& socket, const common::RouteSettings& settings);

}  // namespace anycast::reconciler
