// Why the Node object drains the node (node_drain_reasons), how the drain combines its
// reasons (Drain::set_reasons), and the drain commands' text.
#include "reconciler/cli/drain_answer.hpp"
#include "reconciler/serve/drain.hpp"
#include "reconciler/serve/node_drain_reasons.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

using namespace anycast;
using namespace anycast::reconciler;
using common::kube::NodeInfo;

namespace {

std::vector<std::string> texts(const std::vector<DrainReason>& reasons) {
    std::vector<std::string> out;
    for (const auto& reason : reasons) out.push_back(std::string(drain_cause_name(reason.cause)) + ": " + reason.text);
    return out;
}

}  // namespace

TEST_CASE("node_drain_reasons: cordon, label, configured taints and the annotation", "[unit]") {
    common::DrainSettings settings;
    settings.taints = {{"example.com/maint", ""}, {"example.com/evict", "NoExecute"}};
    struct Case {
        const char* what;
        NodeInfo node;
        std::vector<std::string> expected;
    };
    const auto node = [](auto change) {
        NodeInfo n;
        n.name = "w";
        change(n);
        return n;
    };
    const Case cases[] = {
        {"plain", node([](NodeInfo&) {}), {}},
        {"cordoned", node([](NodeInfo& n) { n.unschedulable = true; }), {"cordon: node cordoned (spec.unschedulable)"}},
        {"exclude label",
         node([](NodeInfo& n) { n.exclude_label = true; }),
         {"label: label node.kubernetes.io/exclude-from-external-load-balancers"}},
        {"taint any effect",
         node([](NodeInfo& n) {
             n.taints = {{"example.com/maint", "PreferNoSchedule"}};
         }),
         {"taint: taint example.com/maint:PreferNoSchedule"}},
        {"taint with the wrong effect",
         node([](NodeInfo& n) {
             n.taints = {{"example.com/evict", "NoSchedule"}};
         }),
         {}},
        {"taint with the configured effect",
         node([](NodeInfo& n) {
             n.taints = {{"example.com/evict", "NoExecute"}};
         }),
         {"taint: taint example.com/evict:NoExecute"}},
        {"unconfigured taint (the cordon's own taint included)",
         node([](NodeInfo& n) {
             n.taints = {{"node.kubernetes.io/unschedulable", "NoSchedule"}};
         }),
         {}},
        {"annotation true",
         node([](NodeInfo& n) { n.drain_annotation = "True"; }),
         {"annotation: annotation anycast.flock.io/drain=true"}},
        {"annotation false", node([](NodeInfo& n) { n.drain_annotation = "false"; }), {}},
        {"annotation other", node([](NodeInfo& n) { n.drain_annotation = "yes"; }), {}},
        {"everything",
         node([](NodeInfo& n) {
             n.unschedulable = true;
             n.exclude_label = true;
             n.taints = {{"example.com/maint", "NoSchedule"}, {"example.com/maint", "NoExecute"}};
             n.drain_annotation = "true";
         }),
         {"cordon: node cordoned (spec.unschedulable)",
          "label: label node.kubernetes.io/exclude-from-external-load-balancers",
          "taint: taint example.com/maint:NoSchedule", "taint: taint example.com/maint:NoExecute",
          "annotation: annotation anycast.flock.io/drain=true"}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        CHECK(texts(node_drain_reasons(c.node, settings)) == c.expected);
    }
    CHECK(node_drain_reasons(std::nullopt, settings).empty());
    CHECK(drain_annotation_understood("FALSE"));
    CHECK_FALSE(drain_annotation_understood("yes"));
}

TEST_CASE("Drain: on while any reason holds; each source replaces only its own reasons", "[unit]") {
    boost::asio::io_context io;
    int changes = 0;
    Drain drain(io, [&] { ++changes; });
    const common::DrainSettings settings;
    const DrainReason manual{DrainCause::manual, "flock-anycast drain"};
    const DrainReason cordon{DrainCause::cordon, "node cordoned (spec.unschedulable)"};

    drain.set_reasons(DrainSource::node, {cordon}, settings, "");
    CHECK(drain.state() == DrainState::draining);
    drain.set_reasons(DrainSource::manual, {manual}, settings, "");
    CHECK(drain.reason() == "node cordoned (spec.unschedulable); flock-anycast drain");
    const auto cordon_since = drain.reasons()[0].since;

    // undrain while cordoned: the drain stays, for the cordon.
    drain.set_reasons(DrainSource::manual, {}, settings, "flock-anycast undrain");
    CHECK(drain.state() == DrainState::draining);
    REQUIRE(drain.reasons().size() == 1);
    CHECK(drain.reasons()[0].reason == cordon);
    CHECK(drain.reasons()[0].since == cordon_since);  // a reason still holding keeps its time

    // The same node reasons again change nothing.
    const int before = changes;
    drain.set_reasons(DrainSource::node, {cordon}, settings, "");
    CHECK(changes == before);

    drain.set_reasons(DrainSource::node, {}, settings, "node: no drain reason left");
    CHECK(drain.state() == DrainState::announcing);
    CHECK(drain.reason() == "node: no drain reason left");
    CHECK_FALSE(drain.drain_local_preference());
}

TEST_CASE("drain commands print the state, every reason with its time, and serve's note", "[unit]") {
    common::ServeCommandAnswer answer;
    answer.ok = true;
    answer.state = "drained";
    answer.reason = "node cordoned (spec.unschedulable)";
    answer.since = "2026-12-01T10:00:30Z";
    answer.reasons = {{"cordon", "node cordoned (spec.unschedulable)", "2026-12-01T10:00:00Z"}};
    answer.note = "the drain stays: node cordoned (spec.unschedulable)";
    CHECK(render_drain_answer(answer) ==
          "drained (node cordoned (spec.unschedulable))\n"
          "  drained since 2026-12-01T10:00:30Z\n"
          "  reason cordon: node cordoned (spec.unschedulable) (since 2026-12-01T10:00:00Z)\n"
          "note: the drain stays: node cordoned (spec.unschedulable)\n");
    common::ServeCommandAnswer announcing;
    announcing.ok = true;
    announcing.state = "announcing";
    CHECK(render_drain_answer(announcing) == "announcing\n");
}
