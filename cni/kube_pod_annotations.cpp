#include "cni/kube_pod_annotations.hpp"

#include "cni/spec/cni_error.hpp"
#include "common/kube/pod_get.hpp"

#include <cstdlib>

namespace anycast::cni {

namespace {

class KubePodAnnotations final : public PodAnnotationSource {
public:
    explicit KubePodAnnotations(std::string kubeconfig) : kubeconfig_(std::move(kubeconfig)) {}

    std::optional<std::string> annotation(const common::PodRef& pod, std::string_view key) override {
        common::kube::KubeConfig access;
        try {
            access = common::kube::load_kube_config(kubeconfig_);
        } catch (const common::kube::KubeConfigError& e) {
            throw CniError(cni_code::kubernetes_lookup_failed, e.what());
        }
        common::kube::PodInfo found;
        try {
            found = common::kube::get_pod(access, pod.namespace_, pod.name, key);
        } catch (const common::kube::PodLookupError& e) {
            // The client says whether asking again may help: code 11 (try again later) or 102.
            throw CniError(e.transient() ? cni_code::try_again_later : cni_code::kubernetes_lookup_failed, e.what());
        }
        // Deleted and re-created under the same name since the runtime asked: that
        // annotation belongs to another pod.
        if (!pod.uid.empty() && found.uid != pod.uid) {
            throw CniError(cni_code::kubernetes_lookup_failed, "pod " + found.key() + ": the apiserver's uid is " +
                                                                   found.uid + ", CNI_ARGS K8S_POD_UID is " + pod.uid);
        }
        const auto value = found.annotations.find(std::string(key));
        if (value == found.annotations.end()) return std::nullopt;
        return value->second;
    }

private:
    std::string kubeconfig_;
};

}  // namespace

bool kubernetes_configured(const common::NodeConfig& config) {
    return !config.kubeconfig.empty() || std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
}

std::unique_ptr<PodAnnotationSource> make_kube_pod_annotations(std::string kubeconfig) {
    return std::make_unique<KubePodAnnotations>(std::move(kubeconfig));
}

}  // namespace anycast::cni
