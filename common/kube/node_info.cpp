#include "common/kube/node_info.hpp"

#include "common/json_reader.hpp"

#include <boost/json.hpp>

namespace anycast::common::kube {

NodeInfo parse_node(const boost::json::value& node) {
    const JsonReader root(node, "node");
    const JsonReader metadata = root.required("metadata");
    NodeInfo info;
    info.name = metadata.required("name").as_string();
    info.resource_version = metadata.string_or("resourceVersion", "");
    if (auto labels = metadata.member("labels")) info.exclude_label = labels->has(k_exclude_lb_label);
    if (auto annotations = metadata.member("annotations")) {
        if (auto drain = annotations->member(k_drain_annotation)) info.drain_annotation = drain->as_string();
    }
    if (auto spec = root.member("spec")) {
        info.unschedulable = spec->bool_or("unschedulable", false);
        if (auto taints = spec->member("taints")) {
            for (const auto& taint : taints->elements()) {
                info.taints.push_back({taint.required("key").as_string(), taint.string_or("effect", "")});
            }
        }
    }
    return info;
}

NodeList parse_node_list(std::string_view body) {
    const auto doc = parse_json(body, "node list");
    const JsonReader root(doc, "nodeList");
    NodeList list;
    list.resource_version = root.required("metadata").string_or("resourceVersion", "");
    if (auto items = root.member("items")) {
        for (const auto& item : items->elements()) list.nodes.push_back(parse_node(item.value()));
    }
    return list;
}

}  // namespace anycast::common::kube
