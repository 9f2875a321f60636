// plan_reports: which readiness-gate conditions and events follow from the pods'
// announcements (issue 18 items 2 and 3). No root, no apiserver.
#include "reconciler/serve/pod_report_plan.hpp"
#include "reconciler/serve/pod_reporter.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace anycast;
using namespace anycast::reconciler;
using common::kube::PodInfo;

namespace {

struct Planner {
    ReportMemory memory;
    std::map<std::string, PodInfo> pods;

    PodInfo& pod(const std::string& name, bool gated = true) {
        PodInfo& p = pods["dns/" + name];
        p.namespace_ = "dns";
        p.name = name;
        p.uid = "u-" + name;
        p.announced_gate = gated;
        return p;
    }
    ReportPlan run(std::vector<PodAnnouncement> now) {
        return plan_reports(
            memory, now,
            [this](const std::string& key) -> const PodInfo* {
                const auto found = pods.find(key);
                return found == pods.end() ? nullptr : &found->second;
            },
            "worker-1");
    }
};

PodAnnouncement announcement(const std::string& name, AnnouncementState state, std::string_view reason = "Announced",
                             std::vector<std::string> refusals = {}) {
    PodAnnouncement a;
    a.namespace_ = "dns";
    a.name = name;
    a.state = state;
    a.reason = reason;
    a.prefixes = {*common::Prefix::parse("10.255.53.53/32")};
    a.refusals = std::move(refusals);
    return a;
}

std::vector<std::string> reasons(const ReportPlan& plan) {
    std::vector<std::string> out;
    for (const auto& e : plan.events) out.push_back(e.pod.name + ":" + e.event.reason);
    return out;
}

}  // namespace

TEST_CASE("a gated pod's condition turns True once announced, False once withdrawn, never while pending",
          "[unit][reconciler]") {
    Planner planner;
    planner.pod("a");
    planner.run({});  // serve started with no records
    auto plan = planner.run({announcement("a", AnnouncementState::pending, "Pending")});
    CHECK(plan.gates.empty());  // absent already reads as False
    plan = planner.run({announcement("a", AnnouncementState::announced)});
    REQUIRE(plan.gates.size() == 1);
    CHECK(plan.gates[0].announced);
    CHECK(plan.gates[0].pod.uid == "u-a");
    CHECK(plan.gates[0].message == "10.255.53.53/32 announced by node worker-1");
    CHECK(reasons(plan) == std::vector<std::string>{"a:AnycastAnnounced"});
    // The watch has not shown our condition yet: no second patch.
    CHECK(planner.run({announcement("a", AnnouncementState::announced)}).gates.empty());
    plan = planner.run({announcement("a", AnnouncementState::withdrawn, "NotEligible")});
    REQUIRE(plan.gates.size() == 1);
    CHECK_FALSE(plan.gates[0].announced);
    CHECK(plan.gates[0].reason == "NotEligible");
    CHECK(reasons(plan) == std::vector<std::string>{"a:AnycastWithdrawn"});
}

TEST_CASE("pods without the gate get events but no condition; unknown pods get nothing", "[unit][reconciler]") {
    Planner planner;
    planner.pod("plain", false);
    planner.run({});
    auto plan = planner.run(
        {announcement("plain", AnnouncementState::announced), announcement("ghost", AnnouncementState::announced)});
    CHECK(plan.gates.empty());
    CHECK(reasons(plan) == std::vector<std::string>{"plain:AnycastAnnounced"});
}

TEST_CASE("at serve's start, pods already announced are no news; a pod still waiting on the gate is",
          "[unit][reconciler]") {
    Planner planner;
    planner.pod("a");                             // gated, never announced
    planner.pod("b").announced_condition = true;  // gated, announced by the serve before
    planner.pod("c", false);                      // no gate: serve cannot tell, so it stays quiet
    auto plan =
        planner.run({announcement("a", AnnouncementState::pending, "Pending"),
                     announcement("b", AnnouncementState::announced), announcement("c", AnnouncementState::announced)});
    CHECK(plan.events.empty());
    CHECK(plan.gates.empty());  // b carries True already; a is pending
    plan =
        planner.run({announcement("a", AnnouncementState::announced), announcement("b", AnnouncementState::announced),
                     announcement("c", AnnouncementState::announced)});
    CHECK(reasons(plan) == std::vector<std::string>{"a:AnycastAnnounced"});
    REQUIRE(plan.gates.size() == 1);
    CHECK(plan.gates[0].pod.name == "a");
}

TEST_CASE("a new pod not ready yet is no news; a refusal is a warning once per change", "[unit][reconciler]") {
    Planner planner;
    planner.pod("a");
    planner.run({});
    auto plan = planner.run({announcement("a", AnnouncementState::withdrawn, "NotEligible", {"10.9.9.9: outside"})});
    CHECK(plan.gates.empty());
    REQUIRE(reasons(plan) == std::vector<std::string>{"a:AnycastRefused"});
    CHECK(plan.events[0].event.warning);
    CHECK(planner.run({announcement("a", AnnouncementState::withdrawn, "NotEligible", {"10.9.9.9: outside"})})
              .events.empty());
}

TEST_CASE("a pod made again under the same name starts afresh", "[unit][reconciler]") {
    Planner planner;
    planner.pod("a");
    planner.run({});
    planner.run({announcement("a", AnnouncementState::announced)});
    planner.pod("a").uid = "u-a2";
    const auto plan = planner.run({announcement("a", AnnouncementState::announced)});
    REQUIRE(plan.gates.size() == 1);
    CHECK(plan.gates[0].pod.uid == "u-a2");
    CHECK(reasons(plan) == std::vector<std::string>{"a:AnycastAnnounced"});
}

TEST_CASE("the event budget allows a burst, then one per refill", "[unit][reconciler]") {
    EventBudget budget(2, std::chrono::milliseconds(1000));
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(budget.take(t0));
    CHECK(budget.take(t0));
    CHECK_FALSE(budget.take(t0));
    CHECK_FALSE(budget.take(t0 + std::chrono::milliseconds(500)));
    CHECK(budget.take(t0 + std::chrono::milliseconds(1001)));
}

TEST_CASE("an event the node's budget drops does not spend the pod's token", "[unit][reconciler]") {
    EventBudget pod(1, std::chrono::hours(1));
    EventBudget node(1, std::chrono::milliseconds(1000));
    const auto t0 = std::chrono::steady_clock::now();
    EventBudget other_pod(1, std::chrono::hours(1));
    CHECK(EventBudget::take_both(other_pod, node, t0));  // the node's one token
    CHECK_FALSE(EventBudget::take_both(pod, node, t0));
    // The node's budget refilled; the pod's (one an hour) still holds the token it kept.
    CHECK(EventBudget::take_both(pod, node, t0 + std::chrono::milliseconds(1001)));
    CHECK_FALSE(EventBudget::take_both(pod, node, t0 + std::chrono::milliseconds(2002)));
}
