// Where the pod annotation's anycast IPs come from (docs/architecture.md section 4): on a
// Kubernetes node serve answers over its socket (cni/serve_pod_annotations.hpp); elsewhere
// NoPodAnnotations, which requests nothing.
#pragma once

#include "common/config/node_config.hpp"
#include "common/store/record.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace anycast::cni {

class PodAnnotationSource {
public:
    virtual ~PodAnnotationSource() = default;
    // The value of annotation `key` on the pod, nullopt when the pod has none. Throws
    // CniError code 11 (no answer in time: try again) or 102 (lookup failed).
    virtual std::optional<std::string> annotation(const common::PodRef& pod, std::string_view key) = 0;
};

// Kubernetes not configured: no pod has annotations.
class NoPodAnnotations final : public PodAnnotationSource {
public:
    std::optional<std::string> annotation(const common::PodRef&, std::string_view) override { return std::nullopt; }
};

// The source for this node: serve's socket when `readiness.source` is kubernetes, else
// NoPodAnnotations. Constructed lazily by ADD, and only when CNI_ARGS name a pod whose
// namespace may claim something.
std::unique_ptr<PodAnnotationSource> make_pod_annotation_source(const common::NodeConfig& config);

// How ADD gets its source; tests pass their own.
using PodAnnotationFactory = std::function<std::unique_ptr<PodAnnotationSource>(const common::NodeConfig& config)>;

}  // namespace anycast::cni
