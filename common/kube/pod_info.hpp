// The part of a Pod object this agent needs, extracted from the apiserver's JSON; every
// other field (spec, managedFields, most of status) is dropped at parse time.
#pragma once

#include "common/pod_state.hpp"

#include <boost/json/fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common::kube {

struct PodInfo {
    std::string namespace_;
    std::string name;
    std::string uid;
    std::string resource_version;
    bool ready = false;             // status.conditions[type=Ready].status == "True"
    bool containers_ready = false;  // status.conditions[type=ContainersReady].status == "True"
    bool deleting = false;          // metadata.deletionTimestamp is set
    // spec.readinessGates lists k_announced_gate: the pod waits for serve to say it carries
    // traffic (issue 18 item 2), so its eligibility follows ContainersReady instead of Ready,
    // which waits on the gate.
    bool announced_gate = false;
    // Our condition (status.conditions[type=k_announced_gate]) as the apiserver has it:
    // nullopt when absent, which the kubelet reads as False.
    std::optional<bool> announced_condition;
    // Only the annotations parse_pod was asked to keep (the anycast one): a pod may carry
    // 256 KiB of others, and a node hundreds of pods.
    std::map<std::string, std::string> annotations;

    // The eligibility-relevant view serve works with: Ready, or ContainersReady for a pod
    // with our readiness gate.
    PodState state() const;
    // "namespace/name", the cache key.
    std::string key() const { return namespace_ + "/" + name; }

    friend bool operator==(const PodInfo&, const PodInfo&) = default;
};

// The annotation whose anycast IPs pods ask for (the node config's `annotation` default).
inline constexpr std::string_view k_ips_annotation = "anycast.flock.io/ips";

// The readiness gate and condition type a pod lists to wait for its announcement.
inline constexpr std::string_view k_announced_gate = "anycast.flock.io/announced";

// Extracts a PodInfo from a Pod object, keeping only the annotation `keep_annotation`;
// JsonError naming the field when metadata.name, metadata.namespace or metadata.uid is
// missing or has the wrong type.
PodInfo parse_pod(const boost::json::value& pod, std::string_view keep_annotation = k_ips_annotation);

// One page of a pod list (GET …/pods?limit=…&continue=…): the pods, the list's resourceVersion
// and the continue token ("" on the last page). An item that is not a well-formed pod is
// skipped, its JsonError's text kept in `skipped` (the watcher logs it): one odd pod must not
// stop the node from syncing. A body that is not JSON, or whose `metadata` or `items` has the
// wrong type, is a JsonError. Pure: the watcher's I/O hands it the body (and the fuzz target
// of test/fuzz/ its bytes).
struct PodListPage {
    std::vector<PodInfo> pods;
    std::vector<std::string> skipped;
    std::string resource_version;
    std::string continue_token;
};
PodListPage parse_pod_list(std::string_view body, std::string_view keep_annotation = k_ips_annotation);

// The annotation `key`, split at commas, each entry trimmed, empty ones dropped:
// "10.255.53.53, fd00:255::53" → {"10.255.53.53", "fd00:255::53"}. Absent → {}.
std::vector<std::string> annotation_ips(const PodInfo& pod, std::string_view key);

}  // namespace anycast::common::kube
