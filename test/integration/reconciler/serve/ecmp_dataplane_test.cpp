// Flow preservation on the data path (issue 19, docs/ecmp.md): three pods behind the node share
// the anycast address; from a client namespace 200 UDP flows with fixed source ports (layer-4
// multipath hashing in the node namespace) and 30 TCP connections are mapped to pods; serve
// then sees one pod marked deleting (the readiness file, as in production). In resilient mode
// no flow of a pod that stays moves and its TCP connections survive; in multipath mode the
// same run reports how many moved, for the first, a middle and the last hop leaving.
#include "test/support/flow_lab.hpp"
#include "test/support/serve_lab.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdio>

using namespace anycast::test;

namespace {

constexpr int k_flows = 200;
constexpr int k_connections = 30;

struct Outcome {
    FlowMoves udp;
    int tcp_on_remaining = 0;
    int tcp_survived = 0;
};

Outcome one_pod_leaves(const char* mode, std::size_t leaving_index) {
    PrivateNetns netns;
    ServeLab lab;
    lab.config["routes"].as_object()["ecmp"] = mode;
    lab.write_config();
    auto serve = lab.start_serving(3);
    FlowLab flows(ServeLab::anycast_v4);
    for (const auto& pod : lab.pods) flows.add_pod(pod.name, pod.ns->name(), pod.host_end);
    const bool resilient = std::string(mode) == "resilient";
    CHECK((ServeLab::v4_route().find("nhid") != std::string::npos) == resilient);

    const auto before = flows.udp_map(k_flows);
    const auto connections = flows.tcp_connect(k_connections);
    const ServePod& leaving = lab.pods[leaving_index];
    std::vector<anycast::common::PodState> states;
    std::vector<const ServePod*> remaining;
    for (const auto& pod : lab.pods) {
        states.push_back(&pod == &leaving ? ServeLab::deleting(pod) : ServeLab::ready(pod));
        if (&pod != &leaving) remaining.push_back(&pod);
    }
    lab.set_pods(states);
    INFO(lab.log());
    REQUIRE(lab.wait_routed_via(remaining));
    const auto after = flows.udp_map(k_flows);

    Outcome outcome{count_moves(before, after, leaving.name), 0, 0};
    for (const auto& connection : connections) {
        if (connection.pod == leaving.name || connection.pod.empty()) continue;
        ++outcome.tcp_on_remaining;
        if (FlowLab::tcp_ask(connection) == connection.pod) ++outcome.tcp_survived;
    }
    // Every flow was answered, and the leaving pod had some (else the case proves nothing).
    CHECK(outcome.udp.unanswered == 0);
    CHECK(outcome.udp.leaving > 0);
    CHECK(outcome.udp.leaving_rehomed);
    std::fprintf(stderr,
                 "ecmp %s, %s hop of 3 leaving: %d of %d UDP flows on remaining pods moved (%d were on the leaving "
                 "pod, all moved); %d of %d TCP connections to remaining pods survived\n",
                 mode,
                 leaving_index == 0   ? "first"
                 : leaving_index == 1 ? "middle"
                                      : "last",
                 outcome.udp.remaining_moved, outcome.udp.on_remaining, outcome.udp.leaving, outcome.tcp_survived,
                 outcome.tcp_on_remaining);
    return outcome;
}

}  // namespace

TEST_CASE("resilient mode: a pod leaving moves only its own flows; TCP to the others survives",
          "[netns][serve][ecmp]") {
    for (const std::size_t leaving : {0u, 1u, 2u}) {
        DYNAMIC_SECTION("hop " << leaving << " of 3 leaves") {
            const Outcome outcome = one_pod_leaves("resilient", leaving);
            CHECK(outcome.udp.remaining_moved == 0);
            CHECK(outcome.tcp_on_remaining > 0);
            CHECK(outcome.tcp_survived == outcome.tcp_on_remaining);
        }
    }
}

TEST_CASE("multipath mode: a pod leaving rehashes flows of the pods that stay (first and last hop), reported",
          "[netns][serve][ecmp]") {
    for (const std::size_t leaving : {0u, 1u, 2u}) {
        DYNAMIC_SECTION("hop " << leaving << " of 3 leaves") {
            const Outcome outcome = one_pod_leaves("multipath", leaving);
            // Hash-threshold: the first and last hop leaving shift the boundaries of the
            // others' ranges; the middle one's range is split between its neighbours.
            if (leaving != 1) CHECK(outcome.udp.remaining_moved > 0);
        }
    }
}
