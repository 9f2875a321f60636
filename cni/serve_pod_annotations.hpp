// The pod annotation source of a Kubernetes node (issue 16): serve answers from the pods its
// watch keeps, over `<stateDir>/serve.sock` (common/pod_lookup_protocol.hpp), so the plugin
// holds no credentials and does no apiserver call of its own. No answer within the deadline,
// or no serve at all → code 11 (try again later): the runtime retries the sandbox.
#pragma once

#include "cni/pod_annotations.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace anycast::cni {

// serve's own GET on a miss is bounded at 1.5 s; this leaves it room to answer.
inline constexpr std::chrono::milliseconds k_serve_lookup_deadline{2000};

std::unique_ptr<PodAnnotationSource> make_serve_pod_annotations(
    std::string socket_path, std::chrono::milliseconds deadline = k_serve_lookup_deadline);

}  // namespace anycast::cni
