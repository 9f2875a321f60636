#include "cni/commands.hpp"
#include "cni/requested_ips.hpp"
#include "common/config/policy.hpp"

namespace anycast::cni {

common::PodRef pod_ref(const CniEnvironment& env) {
    return common::PodRef{env.args.get("K8S_POD_NAMESPACE").value_or(""), env.args.get("K8S_POD_NAME").value_or(""),
                          env.args.get("K8S_POD_UID").value_or("")};
}

std::vector<common::IpAddress> attachment_ips(const Invocation& invocation, bool with_annotation) {
    IpRequest request;
    request.static_ips = &invocation.config.static_ips;
    request.runtime_config = &invocation.config.runtime_config;
    request.cni_args = invocation.env.args.get("ANYCAST_IPS");
    request.annotation_name = invocation.config.node.annotation;
    const auto pod = pod_ref(invocation.env);
    // A namespace the policy lets claim nothing is not looked up: its pods start whatever the
    // apiserver's state (a request by other means is still refused below, by the policy).
    if (with_annotation && !pod.namespace_.empty() && !pod.name.empty() && invocation.annotations &&
        common::may_claim_anything(invocation.config.node.policy, pod.namespace_)) {
        auto source = invocation.annotations(invocation.config.node);
        if (source) request.annotation = source->annotation(pod, invocation.config.node.annotation);
    }
    return requested_ips(request);
}

}  // namespace anycast::cni
