// Copies what one pass of serve did, and what its publisher and readiness source counted, into
// the metric set (reconciler/metrics/metrics.hpp): kept apart from the loop so serve.cpp only says "a
// pass happened" and "a scrape is due".
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/route.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/readiness/readiness_source.hpp"
#include "reconciler/pipeline/route_publisher.hpp"
#include "reconciler/metrics/serve_counters.hpp"

#include "common/config/node_config.hpp"

#include <map>
#include <set>

namespace anycast::reconciler {

// `installed`: the routes of ours in the kernel after the pass; `netlink_errors`: requests of
// this pass the kernel refused; `success`: no kernel read or write failed.
void observe_pass(Metrics& metrics, const ServeCounters& counters, const std::vector<common::netlink::Route>& installed,
                  std::size_t netlink_errors, bool success);

// The per-policy-prefix series (Metrics::prefix_*): every prefix of `policy` gets its routes,
// hops and announced routes of `installed` (announced: all of them, or none while drained);
// prefixes a SIGHUP removed from the policy drop to 0 (their series stay).
class PolicyPrefixFeed {
public:
    explicit PolicyPrefixFeed(Metrics& metrics) : metrics_(metrics) {}
    void observe(const common::Policy& policy, const std::vector<common::netlink::Route>& installed, bool announcing);

private:
    Metrics& metrics_;
    std::set<common::Prefix> seen_;
};

// Copies the counts that the BIRD publisher and the readiness source keep themselves (BIRD
// reloads by result, Kubernetes watch restarts and relists) into the metric counters. SIGHUP
// may replace either, and the new one counts from zero again: the counters are given only
// what grew since the last look, and `retire` takes an outgoing one's last counts, so nothing
// it counted is lost and no counter ever goes down.
// What the Node object's watcher (common/kube/node_watcher.hpp) counts, as the feed needs it.
struct NodeWatchCounts {
    bool synced = false;
    std::uint64_t failures = 0;
};

class SourceCountsFeed {
public:
    explicit SourceCountsFeed(Metrics& metrics) : metrics_(metrics) {}

    // Either may be null (not made yet).
    void observe(const RoutePublisher* publisher, const ReadinessSource* readiness);
    // Just before `publisher` (`readiness`) is replaced or destroyed: its final counts go in
    // and its successor is looked at from zero.
    void retire(const RoutePublisher& publisher);
    void retire(const ReadinessSource& readiness);
    // The same for the Node watch: nullopt when there is none (off, or failed to start).
    void observe(const std::optional<NodeWatchCounts>& node_watch);
    void retire(const NodeWatchCounts& node_watch);

private:
    Metrics& metrics_;
    ReloadCounts reloads_seen_;
    WatchCounts watch_seen_;
    std::uint64_t node_failures_seen_ = 0;
};

}  // namespace anycast::reconciler
