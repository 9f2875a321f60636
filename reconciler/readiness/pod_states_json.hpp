// The readiness file of the `file` source: a JSON array
// [{"namespace": "dns", "name": "coredns-0", "uid": "…", "ready": true, "deleting": false}].
// `uid` may be omitted (empty), `ready` and `deleting` default to false.
#pragma once

#include "common/pod_state.hpp"

#include <string_view>
#include <vector>

namespace anycast::reconciler {

// Throws common::JsonError naming `source` and the field ("pods.json: [2].ready: ...").
std::vector<common::PodState> parse_pod_states(std::string_view text, std::string_view source);

}  // namespace anycast::reconciler
