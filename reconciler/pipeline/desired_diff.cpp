#include "reconciler/pipeline/desired_diff.hpp"

#include "common/netlink/nexthop_changes.hpp"
#include "common/netlink/route_changes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

namespace anycast::reconciler {

namespace netlink = common::netlink;

namespace {

// Desired routes with interface names → routes with ifindexes, sorted by destination.
void map_desired(const std::vector<DesiredRoute>& desired, const LinkTable& links,
                 const common::RouteSettings& settings, RouteDiff& out) {
    out.target.reserve(desired.size());
    for (const auto& want : desired) {
        netlink::Route route{want.destination, {}, settings.protocol, settings.table};
        route.hops.reserve(want.hops.size());
        for (const auto& hop : want.hops) {
            const auto* link = links.find(hop.iface);
            if (link == nullptr || !link->up) {
                // IPv4 refuses a next hop on a down interface (ENETDOWN) and would fail the
                // whole multipath route: leave the hop out; the link event brings it back.
                out.skipped.push_back(
                    {want.destination.to_string(), fmt::format("next hop {} dev {} left out: interface {}", hop.via,
                                                               hop.iface, link == nullptr ? "not found" : "down")});
                continue;
            }
            route.hops.push_back(netlink::NextHop{hop.via, link->index});
        }
        if (route.hops.empty()) continue;
        std::sort(route.hops.begin(), route.hops.end());
        route.hops.erase(std::unique(route.hops.begin(), route.hops.end()), route.hops.end());
        out.target.push_back(std::move(route));
    }
    std::sort(out.target.begin(), out.target.end(),
              [](const netlink::Route& a, const netlink::Route& b) { return a.destination < b.destination; });
}

void plan_changes(RouteDiff& out, const std::vector<netlink::Route>& kernel, const common::RouteSettings& settings,
                  const netlink::NexthopTable& nexthops) {
    std::optional<netlink::ResilientGroupSettings> resilient;
    if (settings.ecmp == common::EcmpMode::resilient) {
        resilient = netlink::ResilientGroupSettings{settings.resilient_buckets, settings.resilient_idle_seconds};
    }
    netlink::NexthopPlan plan = netlink::plan_nexthops(out.target, kernel, nexthops, settings.protocol, resilient);
    out.nexthops_first = std::move(plan.first);
    out.nexthops_last = std::move(plan.last);
    netlink::RouteChangeIndices changes = netlink::diff_route_indices(kernel, out.target);
    out.replaced = std::move(changes.replaced);
    out.removed.reserve(changes.removed.size());
    for (const auto i : changes.removed) out.removed.push_back(kernel[i]);
}

}  // namespace

RouteDiff diff_desired(const std::vector<DesiredRoute>& desired, const std::vector<netlink::Route>& kernel,
                       const LinkTable& links, const common::RouteSettings& settings,
                       const netlink::NexthopTable& nexthops) {
    RouteDiff out;
    map_desired(desired, links, settings, out);
    plan_changes(out, kernel, settings, nexthops);
    return out;
}

RouteDiff diff_desired(std::vector<DesiredRoute>&& desired, const std::vector<netlink::Route>& kernel,
                       const LinkTable& links, const common::RouteSettings& settings,
                       const netlink::NexthopTable& nexthops) {
    RouteDiff out;
    map_desired(desired, links, settings, out);
    std::vector<DesiredRoute>().swap(desired);  // mapped: not held beside the plan
    plan_changes(out, kernel, settings, nexthops);
    return out;
}

std::vector<netlink::Route> take_installed(RouteDiff& diff, const std::vector<int>& results) {
    std::set<common::Prefix> failed;
    for (std::size_t i = 0; i < diff.replaced.size() && i < results.size(); ++i) {
        if (results[i] != 0) failed.insert(diff.target[diff.replaced[i]].destination);
    }
    if (failed.empty()) return std::exchange(diff.target, {});
    std::vector<netlink::Route> installed;
    for (auto& route : diff.target) {
        if (!failed.contains(route.destination)) installed.push_back(std::move(route));
    }
    diff.target.clear();
    return installed;
}

std::vector<netlink::Nexthop> take_nexthops(RouteDiff& diff, const std::vector<netlink::Nexthop>& ours) {
    netlink::NexthopPlan plan{std::move(diff.nexthops_first), std::move(diff.nexthops_last)};
    std::vector<netlink::Nexthop> after = netlink::nexthops_after(ours, plan);
    diff.nexthops_last = std::move(plan.last);
    diff.nexthops_first.clear();
    return after;
}

}  // namespace anycast::reconciler
