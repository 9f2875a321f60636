#include "reconciler/metrics/serve_metrics.hpp"

#include <chrono>
#include <cstdint>

namespace anycast::reconciler {

void observe_pass(Metrics& metrics, const ServeCounters& counters, const std::vector<common::netlink::Route>& installed,
                  std::size_t netlink_errors, bool success) {
    const common::netlink::RouteCounts counts = common::netlink::count_by_family(installed);
    metrics.routes_ipv4.set(static_cast<double>(counts.v4.routes));
    metrics.routes_ipv6.set(static_cast<double>(counts.v6.routes));
    metrics.nexthops_ipv4.set(static_cast<double>(counts.v4.hops));
    metrics.nexthops_ipv6.set(static_cast<double>(counts.v6.hops));
    metrics.records.set(static_cast<double>(counters.records));
    metrics.eligible_pods.set(static_cast<double>(counters.eligible_records));
    if (netlink_errors > 0) metrics.netlink_errors.inc(static_cast<double>(netlink_errors));
    const double unix_now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    metrics.record_pass(std::chrono::duration<double>(counters.last_pass_duration).count(), success, unix_now);
}

void PolicyPrefixFeed::observe(const common::Policy& policy, const std::vector<common::netlink::Route>& installed,
                               bool announcing) {
    std::set<common::Prefix> prefixes(policy.allowed_prefixes.begin(), policy.allowed_prefixes.end());
    for (const auto& [name, own] : policy.namespaces) prefixes.insert(own.begin(), own.end());
    std::map<common::Prefix, std::pair<std::size_t, std::size_t>> counts;  // routes, hops
    for (const auto& route : installed) {
        const common::Prefix* holder = nullptr;
        for (const auto& prefix : prefixes) {
            if (prefix.contains(route.destination.address()) && (!holder || prefix.length() > holder->length())) {
                holder = &prefix;
            }
        }
        if (holder == nullptr) continue;
        auto& [routes, hops] = counts[*holder];
        ++routes;
        hops += route.hops.size();
    }
    for (const auto& gone : seen_) {
        if (prefixes.count(gone) != 0) continue;
        for (auto* family : {&metrics_.prefix_routes, &metrics_.prefix_hops, &metrics_.prefix_announced}) {
            family->with({gone.to_string()}).set(0);
        }
    }
    for (const auto& prefix : prefixes) {
        const auto [routes, hops] = counts[prefix];
        const std::string label = prefix.to_string();
        metrics_.prefix_routes.with({label}).set(static_cast<double>(routes));
        metrics_.prefix_hops.with({label}).set(static_cast<double>(hops));
        metrics_.prefix_announced.with({label}).set(announcing ? static_cast<double>(routes) : 0.0);
    }
    seen_.insert(prefixes.begin(), prefixes.end());
}

namespace {

// Adds what `now` grew by since `seen`. Less than was seen can only be a source replaced
// without retire(): then all of it is new.
void grow(metrics::Counter& counter, std::uint64_t now, std::uint64_t& seen) {
    if (now < seen) seen = 0;
    counter.inc(static_cast<double>(now - seen));
    seen = now;
}

}  // namespace

void SourceCountsFeed::observe(const RoutePublisher* publisher, const ReadinessSource* readiness) {
    if (publisher != nullptr) {
        if (const auto counts = publisher->reload_counts()) {
            grow(metrics_.bird_reloads_success, counts->succeeded, reloads_seen_.succeeded);
            grow(metrics_.bird_reloads_failure, counts->failed, reloads_seen_.failed);
            grow(metrics_.bird_include_write_failures, counts->include_write_failures,
                 reloads_seen_.include_write_failures);
        }
    }
    if (readiness != nullptr) {
        if (const auto counts = readiness->watch_counts()) {
            grow(metrics_.kube_watch_restarts, counts->restarts, watch_seen_.restarts);
            grow(metrics_.kube_relists, counts->relists, watch_seen_.relists);
        }
    }
}

void SourceCountsFeed::observe(const std::optional<NodeWatchCounts>& node_watch) {
    metrics_.node_watch_synced.set(node_watch && node_watch->synced ? 1 : 0);
    if (node_watch) grow(metrics_.node_watch_failures, node_watch->failures, node_failures_seen_);
}

void SourceCountsFeed::retire(const NodeWatchCounts& node_watch) {
    observe(node_watch);
    node_failures_seen_ = 0;
}

void SourceCountsFeed::retire(const RoutePublisher& publisher) {
    observe(&publisher, nullptr);
    reloads_seen_ = {};
}

void SourceCountsFeed::retire(const ReadinessSource& readiness) {
    observe(nullptr, &readiness);
    watch_seen_ = {};
}

}  // namespace anycast::reconciler
