// The apiserver-backed pod annotation source (issue 6) behind cni/pod_annotations.hpp: one
// GET of the pod per ADD, bounded by 5 s; unreachable → code 11, refused/not found → 102.
#pragma once

#include "cni/pod_annotations.hpp"

#include <memory>
#include <string>

namespace anycast::cni {

// Kubernetes is configured when the node config names a kubeconfig, or when the process runs
// with a cluster's service account (KUBERNETES_SERVICE_HOST set, as kubelet does for pods).
bool kubernetes_configured(const common::NodeConfig& config);

// `kubeconfig`: a kubeconfig path, or "" for the in-cluster service account.
std::unique_ptr<PodAnnotationSource> make_kube_pod_annotations(std::string kubeconfig);

}  // namespace anycast::cni
