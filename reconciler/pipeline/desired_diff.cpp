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

RouteDiff diff_desired(const std::vector<DesiredRoute>& desired, const std::vector<netlink::Route>& kernel,
                       const LinkTable& links, const common::RouteSettings& settings,
                       const netlink::NexthopTable& nexthops) {
    RouteDiff out;
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
    std::optional<netlink::ResilientGroupSettings> resilient;
    if (settings.ecmp == common::EcmpMode::resilient) {
        resilient = netlink::ResilientGroupSettings{settings.resilient_buckets, settings.resilient_idle_seconds};
    }
    netlink::NexthopPlan plan = netlink::plan_nexthops(out.target, kernel, nexthops, settings.protocol, resilient);
    out.nexthop_target = std::move(plan.target);
    out.nexthops_first = std::move(plan.first);
    out.nexthops_last = std::move(plan.last);
    out.changes = netlink::diff_routes(kernel, out.target);
    std::stable_partition(out.changes.begin(), out.changes.end(), [](const netlink::RouteChange& change) {
        return change.kind == netlink::RouteChange::Kind::replace;
    });
    return out;
}

std::vector<netlink::Route> take_installed(RouteDiff& diff, const std::vector<int>& results) {
    std::set<common::Prefix> failed;
    for (std::size_t i = 0; i < diff.changes.size() && i < results.size(); ++i) {
        const auto& change = diff.changes[i];
        if (change.kind == netlink::RouteChange::Kind::replace && results[i] != 0) {
            failed.insert(change.route.destination);
        }
    }
    if (failed.empty()) return std::exchange(diff.target, {});
    std::vector<netlink::Route> installed;
    for (auto& route : diff.target) {
        if (!failed.contains(route.destination)) installed.push_back(std::move(route));
    }
    diff.target.clear();
    return installed;
}

}  // namespace anycast::reconciler
