#include "common/kube/pod_writes.hpp"

#include "common/kube/api_target.hpp"
#include "common/kube/pod_info.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace anycast::common::kube {

namespace json = boost::json;

ApiWrite announced_condition_patch(const PodIdentity& pod, bool announced, std::string_view reason,
                                   std::string_view message, std::string_view now) {
    const json::object condition{{"type", k_announced_gate}, {"status", announced ? "True" : "False"},
                                 {"reason", reason},         {"message", message},
                                 {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
    const json::object patch{{"metadata", json::object{{"uid", pod.uid}}},
                             {"status", json::object{{"conditions", json::array{condition}}}}};
    return ApiWrite{.method = ApiWrite::Method::patch,
                    .target = pod_target(pod.namespace_, pod.name) + "/status",
                    .content_type = "application/strategic-merge-patch+json",
                    .body = json::serialize(patch)};
}

ApiWrite pod_event_post(const PodIdentity& pod, const PodEvent& event, std::string_view node,
                        std::string_view component, std::string_view now, std::uint64_t unique) {
    const json::object body{
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", json::object{{"name", fmt::format("{}.{:x}", pod.name, unique)}, {"namespace", pod.namespace_}}},
        {"involvedObject", json::object{{"apiVersion", "v1"},
                                        {"kind", "Pod"},
                                        {"namespace", pod.namespace_},
                                        {"name", pod.name},
                                        {"uid", pod.uid}}},
        {"reason", event.reason},
        // The apiserver keeps at most 1 KiB of a message.
        {"message", event.message.size() > 1024 ? event.message.substr(0, 1021) + "..." : event.message},
        {"type", event.warning ? "Warning" : "Normal"},
        {"source", json::object{{"component", component}, {"host", node}}},
        {"reportingComponent", component},
        {"reportingInstance", node},
        {"firstTimestamp", now},
        {"lastTimestamp", now},
        {"count", 1}};
    return ApiWrite{.method = ApiWrite::Method::post,
                    .target = namespace_events_target(pod.namespace_),
                    .content_type = "application/json",
                    .body = json::serialize(body)};
}

}  // namespace anycast::common::kube
