// The CNI verbs (spec 1.1; docs/architecture.md section 4), one source file each. Each takes the parsed
// invocation and throws CniError (or StoreError → code 103) on failure.
#pragma once

#include "cni/spec/environment.hpp"
#include "cni/spec/net_config.hpp"
#include "cni/pod_annotations.hpp"
#include "common/ip_address.hpp"
#include "common/store/record.hpp"

#include <string>
#include <vector>

namespace anycast::cni {

struct Invocation {
    CniEnvironment env;
    NetConfig config;
    PodAnnotationFactory annotations;
};

// Returns the result JSON to print.
std::string cmd_add(const Invocation& invocation);
void cmd_del(const Invocation& invocation);
void cmd_check(const Invocation& invocation);
void cmd_gc(const Invocation& invocation);
void cmd_status(const Invocation& invocation);

// The pod named by CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID); empty fields
// when the runtime did not pass them.
common::PodRef pod_ref(const CniEnvironment& env);

// The IPs this attachment asks for. The annotation is consulted only when `with_annotation`
// and CNI_ARGS name the pod.
std::vector<common::IpAddress> attachment_ips(const Invocation& invocation, bool with_annotation);

}  // namespace anycast::cni
