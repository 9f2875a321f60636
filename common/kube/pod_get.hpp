// GET one pod, synchronously, for the CNI plugin's ADD (it needs the pod's annotation before
// it can answer the runtime). Failures are CniErrors with the spec's codes.
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/pod_info.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace anycast::common::kube {

inline constexpr std::chrono::milliseconds k_default_get_timeout{5000};

// Throws CniError: code 11 (try again later) when the apiserver is unreachable, times out or
// answers 429/5xx; code 102 with the apiserver's message for 401/403/404 and other refusals,
// a rejected server certificate or an unparseable pod.
PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::chrono::milliseconds timeout = k_default_get_timeout);

// The CNI's annotation source in one call: loads the kube config (a kubeconfig path, or ""
// for in-cluster), GETs the pod and returns annotation_ips(pod, annotation). A config that
// cannot be loaded is code 102.
std::vector<std::string> fetch_annotation_ips(const std::string& kubeconfig_path, const std::string& namespace_,
                                              const std::string& name, const std::string& annotation,
                                              std::chrono::milliseconds timeout = k_default_get_timeout);

}  // namespace anycast::common::kube
