#include "test/support/test_apiserver_nodes.hpp"

#include <boost/json.hpp>

namespace anycast::test {

namespace json = boost::json;

namespace {

void set_or_erase(json::object& map, const std::string& key, std::optional<std::string> value) {
    if (value) {
        map[key] = *value;
    } else {
        map.erase(key);
    }
}

}  // namespace

json::object make_node(const std::string& name) {
    return json::object{
        {"kind", "Node"},
        {"apiVersion", "v1"},
        {"metadata",
         json::object{{"name", name},
                      {"uid", "uid-node-" + name},
                      {"labels", json::object{{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}}},
                      {"annotations", json::object{{"node.alpha.kubernetes.io/ttl", "0"}}}}},
        {"spec", json::object{{"podCIDR", "10.244.1.0/24"}}},
        {"status", json::object{{"conditions", json::array{json::object{{"type", "Ready"}, {"status", "True"}}}},
                                {"nodeInfo", json::object{{"kubeletVersion", "v1.29.0"}}}}}};
}

void set_unschedulable(json::object& node, bool unschedulable) {
    auto& spec = node["spec"].as_object();
    if (unschedulable) {
        spec["unschedulable"] = true;
    } else {
        spec.erase("unschedulable");  // as kubectl uncordon leaves it
    }
}

void set_node_label(json::object& node, const std::string& key, std::optional<std::string> value) {
    set_or_erase(node["metadata"].as_object()["labels"].as_object(), key, std::move(value));
}

void set_node_annotation(json::object& node, const std::string& key, std::optional<std::string> value) {
    set_or_erase(node["metadata"].as_object()["annotations"].as_object(), key, std::move(value));
}

void add_taint(json::object& node, const std::string& key, const std::string& effect) {
    auto& spec = node["spec"].as_object();
    if (!spec.contains("taints")) spec["taints"] = json::array{};
    spec["taints"].as_array().push_back(json::object{{"key", key}, {"effect", effect}});
}

void remove_taint(json::object& node, const std::string& key) {
    auto& spec = node["spec"].as_object();
    if (!spec.contains("taints")) return;
    auto& taints = spec["taints"].as_array();
    json::array kept;
    for (const auto& taint : taints) {
        if (taint.at("key").as_string() != key) kept.push_back(taint);
    }
    taints = std::move(kept);
    if (taints.empty()) spec.erase("taints");
}

std::string NodeTable::name(const json::object& node) {
    return std::string(node.at("metadata").at("name").as_string());
}

std::string NodeTable::name_selector(const std::string& field_selector) {
    const std::string prefix = "metadata.name=";
    return field_selector.rfind(prefix, 0) == 0 ? field_selector.substr(prefix.size()) : std::string{};
}

const json::object* NodeTable::find(const std::string& name) const {
    const auto found = nodes_.find(name);
    return found == nodes_.end() ? nullptr : &found->second;
}

void NodeTable::apply(const std::string& type, json::object node) {
    if (type == "DELETED") {
        nodes_.erase(name(node));
    } else {
        nodes_[name(node)] = std::move(node);
    }
}

json::object NodeTable::list(const std::string& selected, const std::string& resource_version) const {
    json::array items;
    for (const auto& [name, node] : nodes_) {
        if (selected.empty() || selected == name) items.push_back(node);
    }
    return json::object{{"kind", "NodeList"},
                        {"apiVersion", "v1"},
                        {"metadata", json::object{{"resourceVersion", resource_version}}},
                        {"items", std::move(items)}};
}

}  // namespace anycast::test
