// Node objects for the test apiserver (test_apiserver.hpp): their shape, and the table that
// answers the node list. The server's history, watches and resourceVersions are shared with
// the pods; its dispatch sends /api/v1/nodes here.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>

namespace anycast::test {

// A Node object in the apiserver's shape (labels, status, no taints), schedulable.
boost::json::object make_node(const std::string& name);
// kubectl cordon / uncordon.
void set_unschedulable(boost::json::object& node, bool unschedulable);
// Sets metadata.labels[key] (or .annotations[key]) to `value`; nullopt removes it.
void set_node_label(boost::json::object& node, const std::string& key, std::optional<std::string> value);
void set_node_annotation(boost::json::object& node, const std::string& key, std::optional<std::string> value);
// kubectl taint node key=value:effect / key- (every effect).
void add_taint(boost::json::object& node, const std::string& key, const std::string& effect);
void remove_taint(boost::json::object& node, const std::string& key);

class NodeTable {
public:
    static std::string name(const boost::json::object& node);
    // "metadata.name=<name>" → <name>; "" for no (or another) selector: every node.
    static std::string name_selector(const std::string& field_selector);

    const boost::json::object* find(const std::string& name) const;
    // After an event of `type`: DELETED forgets the node, anything else stores it.
    void apply(const std::string& type, boost::json::object node);
    // A NodeList of the nodes `selected` (every node when "") at `resource_version`.
    boost::json::object list(const std::string& selected, const std::string& resource_version) const;

private:
    std::map<std::string, boost::json::object> nodes_;
};

}  // namespace anycast::test
