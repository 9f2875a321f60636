// The node configuration (docs/architecture.md section 3): one source of truth for the node, read by
// the CNI plugin (with inline overrides from the network config) and by serve. Equality is
// defaulted everywhere: serve's SIGHUP decides what changed by comparing whole structs, so a
// field added later cannot be left out of the comparison.
#pragma once

#include "common/config/bgp_settings.hpp"
#include "common/ip_address.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace anycast::common {

inline constexpr const char* k_default_config_path = "/etc/flock-anycast/config.json";

struct Policy {
    // Prefixes any namespace may claim, unless the namespace is listed in `namespaces`.
    std::vector<Prefix> allowed_prefixes;
    // A namespace listed here may claim only its own prefixes.
    std::map<std::string, std::vector<Prefix>> namespaces;

    friend bool operator==(const Policy&, const Policy&) = default;
};

// How an anycast IP with several pods spreads its flows (docs/ecmp.md).
enum class EcmpMode {
    // Nexthop objects in a resilient group (Linux 5.13+): a pod leaving moves only its flows.
    resilient,
    // One RTA_MULTIPATH route (hash-threshold): a change may move flows between remaining pods.
    multipath,
};

struct RouteSettings {
    int protocol = 241;
    std::uint32_t table = 241;
    std::uint32_t rule_priority = 1000;
    EcmpMode ecmp = EcmpMode::resilient;
    // A resilient group's bucket table: the kernel cannot change it in place (a new group
    // then replaces the old one under the route).
    std::uint16_t resilient_buckets = 128;
    // A bucket moves to a newly added pod only after carrying no traffic this long.
    std::uint32_t resilient_idle_seconds = 120;

    friend bool operator==(const RouteSettings&, const RouteSettings&) = default;
};

// Whether two settings put our routes in the same place (protocol, table, rule): otherwise
// the old routes must leave. The ECMP fields only change how the next pass writes them.
inline bool same_route_placement(const RouteSettings& a, const RouteSettings& b) {
    return a.protocol == b.protocol && a.table == b.table && a.rule_priority == b.rule_priority;
}

inline const char* ecmp_name(EcmpMode mode) { return mode == EcmpMode::resilient ? "resilient" : "multipath"; }

// Which readiness source serve runs (reconciler/readiness/ has one of each).
enum class ReadinessSourceKind { kubernetes, file, always };

struct ReadinessSettings {
    ReadinessSourceKind source = ReadinessSourceKind::kubernetes;
    std::string file = "/run/flock-anycast/pods.json";

    friend bool operator==(const ReadinessSettings&, const ReadinessSettings&) = default;
};

struct BirdSettings {
    bool enabled = true;
    std::string fragment = "/etc/bird/flock-anycast.conf";
    std::string socket = "/run/bird/bird.ctl";
    // Where serve writes the bird.conf generated from `bgp` (at start and on SIGHUP, then
    // `configure`); empty: the operator's own BIRD and bird.conf (only the include is ours).
    std::string config;

    friend bool operator==(const BirdSettings&, const BirdSettings&) = default;
};

// A taint on the node that drains it (drain.taints): its key, and the effect it must have
// ("" = any effect).
struct DrainTaint {
    std::string key;
    std::string effect;

    friend bool operator==(const DrainTaint&, const DrainTaint&) = default;
};

// A node drain (issue 18): the prefixes are first re-announced with GRACEFUL_SHUTDOWN and
// this LOCAL_PREF, then withdrawn from BGP `graceful_seconds` later; the kernel routes stay.
struct DrainSettings {
    std::uint32_t local_preference = 0;
    int graceful_seconds = 30;
    // serve watches its own Node object and drains while it is cordoned, labelled
    // exclude-from-external-load-balancers, tainted with one of `taints`, or annotated
    // anycast.flock.io/drain=true. nullopt: on exactly when readiness.source is kubernetes.
    std::optional<bool> watch_node;
    std::vector<DrainTaint> taints;

    friend bool operator==(const DrainSettings&, const DrainSettings&) = default;
};

struct MetricsSettings {
    // host:port; empty disables the endpoint.
    std::string listen = "127.0.0.1:9641";

    friend bool operator==(const MetricsSettings&, const MetricsSettings&) = default;
};

struct NodeConfig {
    std::string node;  // defaults to $NODE_NAME, then the hostname
    // tmpfs: records describe attachments whose namespaces die with the node (docs/cni.md).
    std::string state_dir = "/run/flock-anycast";
    Policy policy;
    std::string annotation = "anycast.flock.io/ips";
    std::string kubeconfig;  // empty: in-cluster service account
    RouteSettings routes;
    ReadinessSettings readiness;
    BirdSettings bird;
    BgpSettings bgp;
    DrainSettings drain;
    int resync_seconds = 30;
    MetricsSettings metrics;
    std::string log_file;  // empty: stderr
    std::string log_level = "info";

    friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

// Whether serve watches the Node object (drain.watchNode, defaulted by the readiness source).
inline bool watches_node(const NodeConfig& config) {
    return config.drain.watch_node.value_or(config.readiness.source == ReadinessSourceKind::kubernetes);
}

}  // namespace anycast::common
