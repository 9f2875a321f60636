// GET one pod, synchronously, for the CNI plugin's ADD (it needs the pod's annotation before
// it can answer the runtime). Failures say whether asking again later may help; the CNI
// plugin turns that into the spec's codes (cni/kube_pod_annotations.cpp).
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/pod_info.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace anycast::common::kube {

inline constexpr std::chrono::milliseconds k_default_get_timeout{5000};

// A pod GET that did not give a pod. `transient`: the apiserver was unreachable, did not answer
// in time or was overloaded (429, 5xx); asking again later may work. Otherwise it refused
// (401, 403, 404, ...; the message carries its own), its certificate was rejected, the access
// config is unusable or the answer was not a pod.
class PodLookupError : public std::runtime_error {
public:
    PodLookupError(const std::string& message, bool transient) : std::runtime_error(message), transient_(transient) {}
    bool transient() const { return transient_; }

private:
    bool transient_;
};

// Throws PodLookupError. The pod keeps only the annotation `keep_annotation`.
PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::string_view keep_annotation = k_ips_annotation,
                std::chrono::milliseconds timeout = k_default_get_timeout);

}  // namespace anycast::common::kube
