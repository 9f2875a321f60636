// Why the node's own Node object drains it (issue 18 item 1), pure: serve's node watch hands
// it each new view of the object. docs/operations.md ("Draining a node") documents the rules.
#pragma once

#include "common/config/node_config.hpp"
#include "common/kube/node_info.hpp"
#include "reconciler/serve/drain.hpp"

#include <optional>
#include <vector>

namespace anycast::reconciler {

// The drain reasons `node` carries, in a fixed order: cordoned (spec.unschedulable), the
// exclude-from-external-load-balancers label (any value, as the service controller reads it),
// each taint matching settings.taints (key, and effect when one is configured), and the
// anycast.flock.io/drain annotation when it says "true" (any case). No node object (deleted,
// not created yet): no reasons.
std::vector<DrainReason> node_drain_reasons(const std::optional<common::kube::NodeInfo>& node,
                                            const common::DrainSettings& settings);

// Whether the drain annotation's value is one node_drain_reasons acts on or ignores
// deliberately ("true", "false", "", any case); anything else is ignored too, but worth a
// warning (a typo must not go unnoticed).
bool drain_annotation_understood(std::string_view value);

}  // namespace anycast::reconciler
