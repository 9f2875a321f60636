#include "reconciler/serve/node_drain_reasons.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>

namespace anycast::reconciler {

namespace kube = common::kube;

std::vector<DrainReason> node_drain_reasons(const std::optional<kube::NodeInfo>& node,
                                            const common::DrainSettings& settings) {
    std::vector<DrainReason> reasons;
    if (!node) return reasons;
    if (node->unschedulable) reasons.push_back({DrainCause::cordon, "node cordoned (spec.unschedulable)"});
    if (node->exclude_label) reasons.push_back({DrainCause::label, "label " + std::string(kube::k_exclude_lb_label)});
    for (const auto& taint : node->taints) {
        const bool matches = std::any_of(settings.taints.begin(), settings.taints.end(), [&](const auto& wanted) {
            return wanted.key == taint.key && (wanted.effect.empty() || wanted.effect == taint.effect);
        });
        if (!matches) continue;
        DrainReason reason{DrainCause::taint, "taint " + taint.key + (taint.effect.empty() ? "" : ":" + taint.effect)};
        // A key may be tainted twice with different effects: one reason each, never twice the same.
        if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(std::move(reason));
    }
    if (node->drain_annotation && boost::algorithm::iequals(*node->drain_annotation, "true")) {
        reasons.push_back({DrainCause::annotation, "annotation " + std::string(kube::k_drain_annotation) + "=true"});
    }
    return reasons;
}

bool drain_annotation_understood(std::string_view value) {
    return value.empty() || boost::algorithm::iequals(value, "true") || boost::algorithm::iequals(value, "false");
}

}  // namespace anycast::reconciler
