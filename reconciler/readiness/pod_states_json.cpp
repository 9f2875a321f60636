#include "reconciler/readiness/pod_states_json.hpp"

#include "common/json_reader.hpp"

#include <fmt/format.h>

#include <string>

namespace anycast::reconciler {

std::vector<common::PodState> parse_pod_states(std::string_view text, std::string_view source) {
    const boost::json::value doc = common::parse_json(text, source);
    const common::JsonReader root(doc);
    std::vector<common::PodState> pods;
    try {
        if (!doc.is_array()) root.fail("not a JSON array of pods");
        for (const auto& entry : root.elements()) {
            common::PodState pod;
            pod.namespace_ = entry.required("namespace").as_string();
            pod.name = entry.required("name").as_string();
            pod.uid = entry.string_or("uid", "");
            pod.ready = entry.bool_or("ready", false);
            pod.deleting = entry.bool_or("deleting", false);
            pods.push_back(std::move(pod));
        }
    } catch (const common::JsonError& e) {
        throw common::JsonError(e.path().empty() ? std::string(source) : fmt::format("{}: {}", source, e.path()),
                                e.problem());
    }
    return pods;
}

}  // namespace anycast::reconciler
