#include "cni/pod_annotations.hpp"

#include "cni/kube_pod_annotations.hpp"

namespace anycast::cni {

std::unique_ptr<PodAnnotationSource> make_pod_annotation_source(const common::NodeConfig& config) {
    // The Kubernetes client (issue 6) when a kubeconfig or the in-cluster account is there.
    if (kubernetes_configured(config)) return make_kube_pod_annotations(config.kubeconfig);
    return std::make_unique<NoPodAnnotations>();
}

}  // namespace anycast::cni
