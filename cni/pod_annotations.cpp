#include "cni/pod_annotations.hpp"

#include "cni/serve_pod_annotations.hpp"
#include "common/pod_lookup_protocol.hpp"

namespace anycast::cni {

std::unique_ptr<PodAnnotationSource> make_pod_annotation_source(const common::NodeConfig& config) {
    // A Kubernetes node: serve watches the node's pods and answers on its socket. Elsewhere
    // no pod has annotations (static anycastIPs, runtimeConfig and CNI_ARGS still work).
    if (config.readiness.source == common::ReadinessSourceKind::kubernetes) {
        return make_serve_pod_annotations(common::serve_socket_path(config.state_dir));
    }
    return std::make_unique<NoPodAnnotations>();
}

}  // namespace anycast::cni
