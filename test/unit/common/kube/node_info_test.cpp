// The Node object's drain view (common/kube/node_info.hpp): what parse_node keeps from the
// apiserver's JSON, and the node list.
#include "common/json_reader.hpp"
#include "common/kube/node_info.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace anycast::common;
using namespace anycast::common::kube;

namespace {

NodeInfo parse(std::string_view text) { return parse_node(parse_json(text, "test")); }

}  // namespace

TEST_CASE("parse_node keeps cordon, the exclude label, taints and the drain annotation", "[unit]") {
    const NodeInfo node = parse(R"({
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": "worker-1", "resourceVersion": "4711",
                     "labels": {"kubernetes.io/hostname": "worker-1",
                                "node.kubernetes.io/exclude-from-external-load-balancers": ""},
                     "annotations": {"anycast.flock.io/drain": "true", "other": "x"}},
        "spec": {"podCIDR": "10.244.1.0/24", "unschedulable": true,
                 "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                             "timeAdded": "2026-12-01T10:00:00Z"},
                            {"key": "example.com/maint", "value": "yes", "effect": "NoExecute"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}})");
    CHECK(node.name == "worker-1");
    CHECK(node.resource_version == "4711");
    CHECK(node.unschedulable);
    CHECK(node.exclude_label);
    CHECK(node.drain_annotation == "true");
    CHECK(node.taints == std::vector<NodeTaint>{{"node.kubernetes.io/unschedulable", "NoSchedule"},
                                                {"example.com/maint", "NoExecute"}});
}

TEST_CASE("parse_node: a plain node has no drain view; errors name the field", "[unit]") {
    const NodeInfo plain = parse(R"({"metadata": {"name": "w", "labels": null}, "spec": {}})");
    CHECK_FALSE(plain.unschedulable);
    CHECK_FALSE(plain.exclude_label);
    CHECK(plain.taints.empty());
    CHECK_FALSE(plain.drain_annotation);
    CHECK(plain.same_drain_view(parse(R"({"metadata": {"name": "w", "resourceVersion": "9"}})")));

    CHECK_THROWS_WITH(parse(R"({"metadata": {}})"), Catch::Contains("node.metadata.name"));
    CHECK_THROWS_WITH(parse(R"({"metadata": {"name": "w"}, "spec": {"unschedulable": "yes"}})"),
                      Catch::Contains("spec.unschedulable: expected a boolean"));
    CHECK_THROWS_WITH(parse(R"({"metadata": {"name": "w"}, "spec": {"taints": [{"effect": "NoSchedule"}]}})"),
                      Catch::Contains("taints[0].key"));
}

TEST_CASE("parse_node_list: the list's resourceVersion and its node", "[unit]") {
    const NodeList list = parse_node_list(
        R"({"kind": "NodeList", "metadata": {"resourceVersion": "12"}, "items": [{"metadata": {"name": "w"}}]})");
    CHECK(list.resource_version == "12");
    REQUIRE(list.nodes.size() == 1);
    CHECK(list.nodes[0].name == "w");
    CHECK(parse_node_list(R"({"metadata": {"resourceVersion": "3"}, "items": []})").nodes.empty());
    CHECK_THROWS(parse_node_list("not json"));
}
