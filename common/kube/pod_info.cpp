#include "common/kube/pod_info.hpp"

#include "common/json_reader.hpp"

#include <boost/json.hpp>

namespace anycast::common::kube {

PodState PodInfo::state() const {
    return PodState{.namespace_ = namespace_,
                    .name = name,
                    .uid = uid,
                    .ready = announced_gate ? containers_ready : ready,
                    .deleting = deleting};
}

PodInfo parse_pod(const boost::json::value& pod, std::string_view keep_annotation) {
    const JsonReader root(pod, "pod");
    const JsonReader metadata = root.required("metadata");
    PodInfo info;
    info.namespace_ = metadata.required("namespace").as_string();
    info.name = metadata.required("name").as_string();
    info.uid = metadata.required("uid").as_string();
    info.resource_version = metadata.string_or("resourceVersion", "");
    info.deleting = metadata.has("deletionTimestamp");
    if (auto annotations = metadata.member("annotations")) {
        annotations->as_object();
        if (auto kept = annotations->member(keep_annotation))
            info.annotations.emplace(keep_annotation, kept->as_string());
    }
    if (auto spec = root.member("spec")) {
        if (auto gates = spec->member("readinessGates")) {
            for (const auto& gate : gates->elements()) {
                if (gate.string_or("conditionType", "") == k_announced_gate) info.announced_gate = true;
            }
        }
    }
    if (auto status = root.member("status")) {
        if (auto conditions = status->member("conditions")) {
            for (const auto& condition : conditions->elements()) {
                const std::string type = condition.string_or("type", "");
                const bool is_true = condition.string_or("status", "") == "True";
                if (type == "Ready") {
                    info.ready = is_true;
                } else if (type == "ContainersReady") {
                    info.containers_ready = is_true;
                } else if (type == k_announced_gate) {
                    info.announced_condition = is_true;
                }
            }
        }
    }
    return info;
}

PodListPage parse_pod_list(std::string_view body, std::string_view keep_annotation) {
    const auto doc = parse_json(body, "pod list");
    const JsonReader root(doc, "podList");
    const JsonReader metadata = root.required("metadata");
    PodListPage page;
    page.resource_version = metadata.string_or("resourceVersion", "");
    page.continue_token = metadata.string_or("continue", "");
    if (auto items = root.member("items")) {
        for (const auto& item : items->elements()) {
            try {
                page.pods.push_back(parse_pod(item.value(), keep_annotation));
            } catch (const JsonError& e) {
                page.skipped.emplace_back(e.what());
            }
        }
    }
    return page;
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
