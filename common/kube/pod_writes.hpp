// The two writes serve makes about pods (issue 18 items 2 and 3), as the apiserver takes
// them: our readiness-gate condition as a strategic merge patch of pods/status, and a
// core/v1 Event about the pod. Pure: the text only; reconciler/serve/pod_reporter sends it.
#pragma once

#include "common/kube/api_request.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace anycast::common::kube {

// Which pod a write is about: its uid guards against a pod of the same name made again.
struct PodIdentity {
    std::string namespace_;
    std::string name;
    std::string uid;
};

// status.conditions[type=anycast.flock.io/announced] set to True or False, merged by type
// (the strategic merge key of pod conditions) so the kubelet's own conditions stay. The patch
// carries metadata.uid, which the apiserver checks as a precondition (409 on another pod),
// as the kubelet's own status patches do. `now`: RFC 3339 UTC, the lastTransitionTime.
ApiWrite announced_condition_patch(const PodIdentity& pod, bool announced, std::string_view reason,
                                   std::string_view message, std::string_view now);

struct PodEvent {
    std::string reason;    // AnycastAnnounced, AnycastWithdrawn, AnycastRefused
    std::string message;   // what kubectl describe pod shows
    bool warning = false;  // type Warning instead of Normal
};

// A core/v1 Event on the pod, reported by `component` on `node`, first and last seen `now`
// (RFC 3339 UTC). Its name is "<pod>.<unique hex>", as client-go names them; `unique` makes it
// unique (client-go uses the time in nanoseconds).
ApiWrite pod_event_post(const PodIdentity& pod, const PodEvent& event, std::string_view node,
                        std::string_view component, std::string_view now, std::uint64_t unique);

}  // namespace anycast::common::kube
