// serve's metric set, flock_anycast_* (docs/operations.md lists them): named instruments that
// the loop (reconcile passes, routes), the BIRD publisher (reloads) and the Kubernetes
// readiness source (watch restarts, relists) update directly, and the endpoint renders.
// Everything is touched from the loop's one thread only.
#pragma once

#include "common/ip_address.hpp"
#include "reconciler/metrics/metrics_registry.hpp"

#include <string>

namespace anycast::reconciler {

// Upper bounds of the pass-duration histogram, in seconds: a pass that changes nothing takes
// well under a millisecond, a large batch of netlink writes tens of milliseconds.
inline const std::vector<double> k_pass_duration_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

// The causes a drain may have (reconciler/serve/drain.hpp's DrainCause, by name).
inline const std::vector<std::string> k_drain_cause_labels = {"manual", "signal", "cordon",
                                                              "label",  "taint",  "annotation"};

struct Metrics {
    Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    metrics::Registry registry;

    // Registered in this order, which is also the order of the exposition. Labelled
    // families get all their children at zero here, so every series exists from the first
    // scrape (absent series make rate() and alerts misleading).

    // flock_anycast_reconcile_passes_total{result="success"|"failure"}; a failed pass is one
    // whose kernel read or any netlink write failed.
    metrics::Family<metrics::Counter>& reconcile_passes;
    metrics::Counter& passes_success;
    metrics::Counter& passes_failure;
    // flock_anycast_reconcile_duration_seconds (histogram).
    metrics::Histogram& pass_duration_seconds;
    // flock_anycast_routes_installed{family="ipv4"|"ipv6"}: host routes of ours in the kernel.
    metrics::Family<metrics::Gauge>& routes_installed;
    metrics::Gauge& routes_ipv4;
    metrics::Gauge& routes_ipv6;
    // flock_anycast_nexthops{family}: next hops summed over those routes.
    metrics::Family<metrics::Gauge>& installed_nexthops;
    metrics::Gauge& nexthops_ipv4;
    metrics::Gauge& nexthops_ipv6;
    // flock_anycast_netlink_errors_total: netlink requests that failed.
    metrics::Counter& netlink_errors;
    // flock_anycast_bird_reloads_total{result="success"|"failure"}.
    metrics::Family<metrics::Counter>& bird_reloads;
    metrics::Counter& bird_reloads_success;
    metrics::Counter& bird_reloads_failure;
    // flock_anycast_bird_include_write_failures_total: the include could not be written.
    metrics::Counter& bird_include_write_failures;
    // flock_anycast_config_reloads_total{result="success"|"failure"}: SIGHUPs applied or not.
    metrics::Family<metrics::Counter>& config_reloads;
    metrics::Counter& config_reloads_success;
    metrics::Counter& config_reloads_failure;
    // flock_anycast_kube_watch_restarts_total, flock_anycast_kube_relists_total.
    metrics::Counter& kube_watch_restarts;
    metrics::Counter& kube_relists;
    // flock_anycast_node_watch_synced, flock_anycast_node_watch_failures_total: the Node
    // object's watch, which the drain follows.
    metrics::Gauge& node_watch_synced;
    metrics::Counter& node_watch_failures;
    // flock_anycast_pod_lookups_total{result="cache"|"apiserver"|"error"}: the CNI plugin's
    // annotation lookups over serve.sock, by how serve answered.
    metrics::Family<metrics::Counter>& pod_lookups;
    metrics::Counter& pod_lookups_cache;
    metrics::Counter& pod_lookups_apiserver;
    metrics::Counter& pod_lookups_error;
    // flock_anycast_pod_condition_patches_total{result="ok"|"failed"}: pods/status patches of
    // the anycast.flock.io/announced readiness gate; flock_anycast_pod_events_total{result=
    // "sent"|"dropped"|"failed"}: Events on pods (dropped: over the rate limit).
    metrics::Family<metrics::Counter>& pod_condition_patches;
    metrics::Counter& pod_condition_patches_ok;
    metrics::Counter& pod_condition_patches_failed;
    metrics::Family<metrics::Counter>& pod_events;
    metrics::Counter& pod_events_sent;
    metrics::Counter& pod_events_dropped;
    metrics::Counter& pod_events_failed;
    // flock_anycast_bird_healthy: 1 while the include is written and BIRD took the last
    // `configure` (always 1 with bird.enabled false), else 0; set at each scrape.
    metrics::Gauge& bird_healthy;
    // flock_anycast_drain_state: 0 announcing, 1 draining (graceful shutdown), 2 drained.
    metrics::Gauge& drain_state;
    // flock_anycast_drain_state_since_timestamp_seconds: when drain_state last changed (unix time;
    // 0 until the first drain).
    metrics::Gauge& drain_since_seconds;
    // flock_anycast_drain_reasons{cause}: the drain reasons holding, by cause (k_drain_cause_labels:
    // six series whatever the node carries; a cause may count several taints).
    metrics::Family<metrics::Gauge>& drain_reasons;
    // Per policy prefix (label `prefix`: each of policy.allowedPrefixes and the namespaces'
    // prefixes, so the series are as many as the policy has prefixes, never one per pod or
    // address): flock_anycast_prefix_routes (our host routes inside it), flock_anycast_prefix_hops
    // (their next hops), flock_anycast_prefix_announced (of those routes, how many are handed
    // to BIRD: 0 while drained). A route counts for the most specific policy prefix holding it.
    metrics::Family<metrics::Gauge>& prefix_routes;
    metrics::Family<metrics::Gauge>& prefix_hops;
    metrics::Family<metrics::Gauge>& prefix_announced;
    // flock_anycast_records: attachment records in the store at the last pass.
    metrics::Gauge& records;
    // flock_anycast_eligible_pods: pods with a record that may take traffic.
    metrics::Gauge& eligible_pods;
    // flock_anycast_last_successful_pass_timestamp_seconds (unix time; 0 = none yet).
    metrics::Gauge& last_success_timestamp_seconds;

    metrics::Gauge& routes(common::Family family) { return family == common::Family::v4 ? routes_ipv4 : routes_ipv6; }
    metrics::Gauge& nexthops(common::Family family) {
        return family == common::Family::v4 ? nexthops_ipv4 : nexthops_ipv6;
    }

    // One pass done: counts it, observes its duration and, when it succeeded, stamps
    // `unix_now` (the caller reads the clock; this stays pure).
    void record_pass(double duration_seconds, bool success, double unix_now);
    void record_bird_reload(bool success) { (success ? bird_reloads_success : bird_reloads_failure).inc(); }
};

}  // namespace anycast::reconciler
