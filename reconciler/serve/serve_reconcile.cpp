// Server's pass proper, kept apart from serve.cpp (the loop, its inputs and signals): whether
// anything moved since the last clean pass, resolve -> diff against the cached kernel view ->
// one batched apply -> publish, and moving the routes when their table changes.
#include "reconciler/serve/serve.hpp"

#include "common/log.hpp"
#include "reconciler/pipeline/desired_diff.hpp"
#include "reconciler/pipeline/resolve.hpp"
#include "reconciler/pipeline/route_text.hpp"
#include "reconciler/serve/kernel_routes.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace anycast::reconciler {

namespace log = common::log;
namespace netlink = common::netlink;
using log::kv;

void Server::log_skipped(const std::vector<Skipped>& skipped) {
    // Each problem once while it lasts, not once per pass.
    std::set<std::string> now;
    for (const auto& s : skipped) {
        std::string key = s.subject + ": " + s.problem;
        if (!logged_skips_.contains(key)) log::warn("skipped", {kv("subject", s.subject), kv("problem", s.problem)});
        now.insert(std::move(key));
    }
    logged_skips_ = std::move(now);
}

// True when the last pass was clean and nothing it depended on moved since: the same
// records, pod states and policy, and a kernel view no foreign event has dropped. Such a
// pass (a SIGHUP that changed nothing, a spurious wake-up) would compute the same routes and
// find nothing to change, so it computes nothing. The resync drops the kernel view, so it
// always diffs for real.
bool Server::unchanged_since_clean_pass() const {
    // A new publisher (SIGHUP) has not been given the set yet.
    if (!clean_inputs_ || !kernel_ || !published_ || options_.dry_run) return false;
    const ReadinessSnapshot& pods = readiness_->snapshot();
    return clean_inputs_->records_generation == records_in_.index->generation() &&
           clean_inputs_->pods.all_ready == pods.all_ready && clean_inputs_->pods.pods == pods.pods &&
           clean_inputs_->policy == config_.policy;
}

const netlink::Route* Server::find_target(const common::Prefix& destination) const {
    const auto found =
        std::lower_bound(target_->begin(), target_->end(), destination,
                         [](const netlink::Route& route, const common::Prefix& d) { return route.destination < d; });
    return found != target_->end() && found->destination == destination ? &*found : nullptr;
}

// resolve → diff against the (cached) kernel view → one batched apply → publish.
Server::PassSummary Server::reconcile() {
    const std::vector<const RouteRecord*>& records = records_in_.index->records();
    RouteDiff diff;
    std::size_t eligible_records = 0;
    // Read before resolving, so the desired routes are not held during the dump too; the
    // dump then stands for what the last pass left (event checks run only between passes),
    // so the old lists (20 000 routes, 40 000 nexthop objects) are not held beside it.
    if (!kernel_) {
        KernelView view = read_kernel(socket_, config_.routes, {target_->size(), target_nexthops_->ours.size()});
        kernel_ = CachedKernel{share(std::move(view.routes)), std::move(view.links),
                               std::make_shared<const netlink::NexthopTable>(std::move(view.nexthops))};
        target_ = kernel_->routes;
        target_nexthops_ = kernel_->nexthops;
    }
    {
        // The desired routes only serve the diff: gone before the kernel is written, so
        // a cold start holds one copy of thousands of routes less at its peak.
        if (!prepared_ || prepared_->records_generation != records_in_.index->generation() ||
            prepared_->policy != config_.policy) {
            prepared_.reset();  // before the new one is built: one copy at a cold start's peak
            prepared_ =
                Prepared{records_in_.index->generation(), config_.policy, PreparedRecords(records, config_.policy)};
        }
        Resolved resolved = resolve(prepared_->records, readiness_->snapshot());
        eligible_records = resolved.eligible_records;
        referenced_ifaces_.clear();
        for (const auto& route : resolved.routes) {
            for (const auto& hop : route.hops) referenced_ifaces_.insert(hop.iface);
        }
        diff = diff_desired(std::move(resolved.routes), *kernel_->routes, kernel_->links, config_.routes,
                            *kernel_->nexthops);
        std::vector<Skipped> skipped = std::move(resolved.skipped);
        skipped.insert(skipped.end(), diff.skipped.begin(), diff.skipped.end());
        log_skipped(skipped);
    }
    const CachedKernel& kernel = *kernel_;

    ApplyOutcome outcome;
    if (options_.dry_run) {
        for (std::size_t i = 0; i < diff.route_change_count(); ++i) {
            const auto change = diff.route_change(i);
            log::info("dry run: would change route",
                      {kv("op", change.kind == netlink::RouteChange::Kind::replace ? "replace" : "delete"),
                       kv("route", route_text(*change.route, kernel.links))});
        }
        log_nexthop_dry_run(diff);
    } else {
        outcome = apply_changes(socket_, diff, kernel.links);
        counters_.route_changes += diff.change_count();
        counters_.route_change_errors += outcome.errors;
    }
    const std::size_t change_count = diff.change_count();
    // Our objects after the pass, held once (by the view too): the kernel's own when unchanged.
    target_nexthops_ = diff.nexthops_first.empty() && diff.nexthops_last.empty()
                           ? kernel.nexthops
                           : std::make_shared<const netlink::NexthopTable>(netlink::NexthopTable{
                                 take_nexthops(diff, kernel.nexthops->ours), kernel.nexthops->others});
    target_ = share(take_installed(diff, outcome.results));  // moved, not copied
    std::vector<common::Prefix> installed;
    installed.reserve(target_->size());
    for (const auto& route : *target_) installed.push_back(route.destination);
    if (!options_.dry_run) {
        // After a clean batch the kernel holds exactly the target (the next dump would
        // diff equal to it), so the view shares it; after a refusal it is re-read.
        if (outcome.errors > 0) {
            kernel_.reset();
        } else {
            kernel_->routes = target_;
            kernel_->nexthops = target_nexthops_;
        }
    }
    installed_prefixes_ = std::move(installed);  // held once: publish() keeps it there
    publish(*installed_prefixes_);
    request_pod_report();

    if (outcome.errors == 0 && !options_.dry_run) {
        if (!clean_inputs_) clean_inputs_ = CleanInputs{};
        clean_inputs_->records_generation = records_in_.index->generation();
        const ReadinessSnapshot& pods = readiness_->snapshot();
        clean_inputs_->pods.all_ready = pods.all_ready;
        if (clean_inputs_->pods.pods != pods.pods) clean_inputs_->pods.pods = pods.pods;  // copied only when changed
        clean_inputs_->policy = config_.policy;
    } else {
        clean_inputs_.reset();
    }
    return {records.size(), eligible_records, target_->size(), change_count, outcome.errors};
}

// Our routes leave the old table (they would otherwise stay there, still routing) and its
// rules go; the next pass installs them in the new one. Failures are logged: the kernel
// cannot be prepared like the rest, and the pass repairs what it can.
void Server::move_routes(const common::RouteSettings& old_settings) {
    try {
        const std::size_t removed = withdraw_all(socket_, old_settings);
        remove_rules(socket_, old_settings);
        ensure_rules(socket_, config_.routes);
        log::info("route settings changed; old routes withdrawn", {kv("removed", removed)});
        target_ = share({});
    } catch (const std::exception& e) {
        log::error("SIGHUP: moving the routes to the new table failed", {kv("error", e.what())});
    }
}

}  // namespace anycast::reconciler
