#include "common/kube/pod_info.hpp"

#include "common/json_reader.hpp"

#include <boost/json.hpp>

namespace anycast::common::kube {

PodState PodInfo::state() const {
    return PodState{.namespace_ = namespace_, .name = name, .uid = uid, .ready = ready, .deleting = deleting};
}

PodInfo parse_pod(const boost::json::value& pod) {
    const JsonReader root(pod, "pod");
    const JsonReader metadata = root.required("metadata");
    PodInfo info;
    info.namespace_ = metadata.required("namespace").as_string();
    info.name = metadata.required("name").as_string();
    info.uid = metadata.required("uid").as_string();
    info.resource_version = metadata.string_or("resourceVersion", "");
    info.deleting = metadata.has("deletionTimestamp");
    if (auto annotations = metadata.member("annotations")) {
        for (const auto& [key, value] : annotations->members()) info.annotations[key] = value.as_string();
    }
    if (auto status = root.member("status")) {
        if (auto conditions = status->member("conditions")) {
            for (const auto& condition : conditions->elements()) {
                if (condition.string_or("type", "") == "Ready") {
                    info.ready = condition.string_or("status", "") == "True";
                }
            }
        }
    }
    return info;
}

std::vector<std::string> annotation_ips(const PodInfo& pod, std::string_view key) {
    std::vector<std::string> ips;
    const auto found = pod.annotations.find(std::string(key));
    if (found == pod.annotations.end()) return ips;
    std::string_view rest = found->second;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        const auto first = item.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos) continue;
        const auto last = item.find_last_not_of(" \t\r\n");
        ips.emplace_back(item.substr(first, last - first + 1));
    }
    return ips;
}

}  // namespace anycast::common::kube
