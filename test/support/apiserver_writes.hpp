// The test apiserver's writes (issue 18 items 2 and 3), as the real apiserver and kubelet
// treat them: a pods/status PATCH (strategic merge keyed by condition type, JSON merge patch,
// the metadata.uid precondition, condition validation), the kubelet's Ready for pods with
// readiness gates, and an Event POST with the apiserver's checks. Pure: JSON in, JSON out.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace anycast::test {

// An HTTP status and, when not 2xx, the Status object's reason and message.
struct WriteOutcome {
    unsigned status = 200;
    std::string reason;
    std::string message;
    bool ok() const { return status < 300; }
};

// Applies `body` (of `content_type`) to `pod`'s status as PATCH …/pods/<name>/status does.
// Refused (415, 400, 409, 422) → `pod` is unchanged.
WriteOutcome patch_pod_status(boost::json::object& pod, std::string_view content_type, std::string_view body);

// status.conditions[type].status ("True", "False", "Unknown"), nullopt when absent.
std::optional<std::string> condition_of(const boost::json::object& pod, std::string_view type);

// What the kubelet does on its next status sync: Ready = ContainersReady and every condition
// the pod's spec.readinessGates names is True (reason ReadinessGatesNotReady otherwise).
void kubelet_sync_ready(boost::json::object& pod);

// Checks an Event POSTed to /api/v1/namespaces/<namespace_>/events and fills `event` (201)
// or says why the apiserver refuses it (400, 415, 422).
WriteOutcome check_event(const std::string& namespace_, std::string_view content_type, std::string_view body,
                         boost::json::object& event);

}  // namespace anycast::test
