// The part of the node's own Node object that decides a drain (issue 18 item 1): cordon, the
// exclude-from-external-load-balancers label, taints and the drain annotation. Everything
// else (status, images, managedFields: tens of KiB) is dropped at parse time.
#pragma once

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common::kube {

inline constexpr std::string_view k_exclude_lb_label = "node.kubernetes.io/exclude-from-external-load-balancers";
inline constexpr std::string_view k_drain_annotation = "anycast.flock.io/drain";

struct NodeTaint {
    std::string key;
    std::string effect;  // NoSchedule | PreferNoSchedule | NoExecute ("" when absent)

    friend bool operator==(const NodeTaint&, const NodeTaint&) = default;
};

struct NodeInfo {
    std::string name;
    std::string resource_version;
    bool unschedulable = false;                   // spec.unschedulable (kubectl cordon)
    bool exclude_label = false;                   // k_exclude_lb_label present, any value
    std::vector<NodeTaint> taints;                // spec.taints
    std::optional<std::string> drain_annotation;  // k_drain_annotation's value, when present

    // Whether the drain-relevant fields are the same (resourceVersion aside).
    bool same_drain_view(const NodeInfo& other) const {
        return unschedulable == other.unschedulable && exclude_label == other.exclude_label && taints == other.taints &&
               drain_annotation == other.drain_annotation;
    }
    friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

// From a Node object; JsonError naming the field when metadata.name is missing or a field
// this reads has the wrong type.
NodeInfo parse_node(const boost::json::value& node);

// A NodeList (GET /api/v1/nodes?fieldSelector=metadata.name=<node>): at most one node, and
// the list's resourceVersion. JsonError for a body that is not such a list.
struct NodeList {
    std::vector<NodeInfo> nodes;
    std::string resource_version;
};
NodeList parse_node_list(std::string_view body);

}  // namespace anycast::common::kube
