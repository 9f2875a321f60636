#include "reconciler/metrics/metrics.hpp"

namespace anycast::reconciler {

Metrics::Metrics()
    : reconcile_passes(registry.counter_family("flock_anycast_reconcile_passes_total",
                                               "Reconcile passes run, by result.", {"result"})),
      passes_success(reconcile_passes.with({"success"})),
      passes_failure(reconcile_passes.with({"failure"})),
      pass_duration_seconds(registry.histogram("flock_anycast_reconcile_duration_seconds",
                                               "Duration of reconcile passes in seconds.", k_pass_duration_buckets)),
      routes_installed(registry.gauge_family("flock_anycast_routes_installed",
                                             "Anycast host routes of ours installed in the kernel, by address family.",
                                             {"family"})),
      routes_ipv4(routes_installed.with({"ipv4"})),
      routes_ipv6(routes_installed.with({"ipv6"})),
      installed_nexthops(registry.gauge_family(
          "flock_anycast_nexthops", "Next hops over all installed anycast routes, by address family.", {"family"})),
      nexthops_ipv4(installed_nexthops.with({"ipv4"})),
      nexthops_ipv6(installed_nexthops.with({"ipv6"})),
      netlink_errors(registry.counter("flock_anycast_netlink_errors_total",
                                      "Netlink requests that failed (refused by the kernel or not sent).")),
      bird_reloads(registry.counter_family("flock_anycast_bird_reloads_total",
                                           "BIRD configure requests sent over the control socket, by result.",
                                           {"result"})),
      bird_reloads_success(bird_reloads.with({"success"})),
      bird_reloads_failure(bird_reloads.with({"failure"})),
      bird_include_write_failures(registry.counter(
          "flock_anycast_bird_include_write_failures_total",
          "Writes of the BIRD include that failed (each is retried with backoff until one succeeds).")),
      config_reloads(registry.counter_family(
          "flock_anycast_config_reloads_total",
          "SIGHUP config reloads: applied whole (success), or not applied at all, the running config kept (failure).",
          {"result"})),
      config_reloads_success(config_reloads.with({"success"})),
      config_reloads_failure(config_reloads.with({"failure"})),
      kube_watch_restarts(registry.counter("flock_anycast_kube_watch_restarts_total",
                                           "Kubernetes pod watches restarted (stream ended or failed).")),
      kube_relists(registry.counter("flock_anycast_kube_relists_total",
                                    "Full pod lists fetched from the apiserver (start, expiry, reconnect).")),
      node_watch_synced(registry.gauge("flock_anycast_node_watch_synced",
                                       "1 once the Node object has been listed (the drain follows it); 0 before, "
                                       "and when the node watch is off or could not start.")),
      node_watch_failures(registry.counter("flock_anycast_node_watch_failures_total",
                                           "Lists and watches of the Node object that failed (each retried with "
                                           "backoff; the last known node stays in force).")),
      pod_lookups(registry.counter_family(
          "flock_anycast_pod_lookups_total",
          "The CNI plugin's pod annotation lookups on serve.sock: answered from the watch's cache, from serve's own "
          "GET, or with an error.",
          {"result"})),
      pod_lookups_cache(pod_lookups.with({"cache"})),
      pod_lookups_apiserver(pod_lookups.with({"apiserver"})),
      pod_lookups_error(pod_lookups.with({"error"})),
      pod_condition_patches(registry.counter_family(
          "flock_anycast_pod_condition_patches_total",
          "pods/status patches of the anycast.flock.io/announced readiness-gate condition, by outcome.", {"result"})),
      pod_condition_patches_ok(pod_condition_patches.with({"ok"})),
      pod_condition_patches_failed(pod_condition_patches.with({"failed"})),
      pod_events(registry.counter_family("flock_anycast_pod_events_total",
                                         "Events on pods (AnycastAnnounced, AnycastWithdrawn, AnycastRefused): sent, "
                                         "dropped by the rate limit, or refused by the apiserver.",
                                         {"result"})),
      pod_events_sent(pod_events.with({"sent"})),
      pod_events_dropped(pod_events.with({"dropped"})),
      pod_events_failed(pod_events.with({"failed"})),
      bird_healthy(registry.gauge("flock_anycast_bird_healthy",
                                  "1 while the BIRD include is written and BIRD took the last configure; 0 while "
                                  "announcements are stuck (see /readyz).")),
      drain_state(registry.gauge("flock_anycast_drain_state",
                                 "The node's drain: 0 announcing, 1 draining (GRACEFUL_SHUTDOWN), 2 drained "
                                 "(withdrawn from BGP, kernel routes kept).")),
      drain_since_seconds(registry.gauge("flock_anycast_drain_state_since_timestamp_seconds",
                                         "When flock_anycast_drain_state last changed (unix time; 0 until the "
                                         "first drain).")),
      drain_reasons(registry.gauge_family("flock_anycast_drain_reasons",
                                          "Drain reasons holding now, by cause: manual (flock-anycast drain), signal "
                                          "(--drain-on-exit), cordon, label, taint, annotation (the Node object).",
                                          {"cause"})),
      prefix_routes(registry.gauge_family("flock_anycast_prefix_routes",
                                          "Our host routes inside each policy prefix (the most specific one).",
                                          {"prefix"})),
      prefix_hops(registry.gauge_family("flock_anycast_prefix_hops",
                                        "Next hops of our host routes inside each policy prefix.", {"prefix"})),
      prefix_announced(registry.gauge_family(
          "flock_anycast_prefix_announced",
          "Host routes inside each policy prefix handed to BIRD for announcement (0 while drained).", {"prefix"})),
      records(registry.gauge("flock_anycast_records", "Attachment records in the state directory at the last pass.")),
      eligible_pods(registry.gauge("flock_anycast_eligible_pods",
                                   "Pods with a record that are known, Ready and not being deleted.")),
      last_success_timestamp_seconds(registry.gauge("flock_anycast_last_successful_pass_timestamp_seconds",
                                                    "Unix time of the last reconcile pass that succeeded.")) {
    for (const auto& cause : k_drain_cause_labels) drain_reasons.with({cause});
}

void Metrics::record_pass(double duration_seconds, bool success, double unix_now) {
    (success ? passes_success : passes_failure).inc();
    pass_duration_seconds.observe(duration_seconds);
    if (success) last_success_timestamp_seconds.set(unix_now);
}

}  // namespace anycast::reconciler
