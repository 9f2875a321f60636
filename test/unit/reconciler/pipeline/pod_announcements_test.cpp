// pod_announcements: per pod, announced or why not (the readiness gate's and the events'
// input, issue 18 items 2 and 3). Table-driven, no root.
#include "reconciler/pipeline/pod_announcements.hpp"

#include "test/support/record_builder.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace anycast;
using common::Prefix;
using reconciler::AnnouncementInputs;
using reconciler::AnnouncementState;
using reconciler::PodAnnouncement;
using reconciler::ReadinessSnapshot;
using reconciler::RouteRecord;

namespace {

Prefix prefix(const char* text) { return *Prefix::parse(text); }

// Two pods: a (10.255.53.53 and fd00:255::53) and b (10.255.53.53 and 10.9.9.9, outside
// the policy), each with a v4 and a v6 hop.
struct Node {
    std::vector<RouteRecord> records;
    std::vector<const RouteRecord*> pointers;
    common::Policy policy;
    ReadinessSnapshot pods;
    std::vector<Prefix> installed = {prefix("10.255.53.53/32"), prefix("fd00:255::53/128")};
    std::vector<Prefix> applied = installed;
    bool drained = false;

    Node() {
        policy.allowed_prefixes = {prefix("10.255.0.0/16"), prefix("fd00:255::/48")};
        add(test::RecordBuilder("k8s", "c-a").pod("dns", "a", "ua").ips({"10.255.53.53", "fd00:255::53"}));
        add(test::RecordBuilder("k8s", "c-b").pod("dns", "b", "ub").ips({"10.255.53.53", "10.9.9.9"}));
        pods.pods = {{"dns", "a", "ua", true, false}, {"dns", "b", "ub", true, false}};
    }
    void add(test::RecordBuilder builder) {
        builder.nexthop("10.0.0.2", "veth-" + std::to_string(records.size()))
            .nexthop("fd00::2", "veth-" + std::to_string(records.size()));
        records.push_back(reconciler::route_record("r" + std::to_string(records.size()), builder.build()));
    }
    std::vector<PodAnnouncement> run() {
        pointers.clear();
        for (const auto& record : records) pointers.push_back(&record);
        std::sort(installed.begin(), installed.end());
        std::sort(applied.begin(), applied.end());
        return reconciler::pod_announcements(AnnouncementInputs{pointers, pods, policy, installed, applied, drained});
    }
    PodAnnouncement pod(const std::string& name) {
        for (auto& a : run()) {
            if (a.name == name) return a;
        }
        FAIL("no announcement for " << name);
        return {};
    }
};

}  // namespace

TEST_CASE("a pod is announced once its routes are in the kernel and BIRD took them in", "[unit][reconciler]") {
    Node node;
    const auto all = node.run();
    REQUIRE(all.size() == 2);
    CHECK(all[0].key() == "dns/a");
    CHECK(all[0].state == AnnouncementState::announced);
    CHECK(all[0].reason == "Announced");
    CHECK(all[0].message() == "10.255.53.53/32, fd00:255::53/128 announced");
    CHECK(all[0].refusals.empty());
    // b's allowed address is announced; its refused one is reported beside.
    CHECK(all[1].state == AnnouncementState::announced);
    CHECK(all[1].message() == "10.255.53.53/32 announced");
    REQUIRE(all[1].refusals.size() == 1);
    CHECK_THAT(all[1].refusals[0], Catch::Matchers::StartsWith("10.9.9.9: "));
}

TEST_CASE("pod_announcements says why a pod is not announced", "[unit][reconciler]") {
    Node node;
    SECTION("BIRD has not taken a prefix in yet: pending, not a withdrawal") {
        node.applied = {prefix("10.255.53.53/32")};
        const auto a = node.pod("a");
        CHECK(a.state == AnnouncementState::pending);
        CHECK(a.message() == "routed; BIRD has not taken fd00:255::53/128 in yet");
    }
    SECTION("no route yet") {
        node.installed = {prefix("10.255.53.53/32")};
        const auto a = node.pod("a");
        CHECK(a.state == AnnouncementState::withdrawn);
        CHECK(a.reason == "NotRouted");
        CHECK(a.message() == "no route for fd00:255::53/128");
    }
    SECTION("not ready, deleting, unknown") {
        node.pods.pods[0].ready = false;
        node.pods.pods[1].deleting = true;
        CHECK(node.pod("a").reason == "NotEligible");
        CHECK(node.pod("a").message() == "pod not ready");
        CHECK(node.pod("b").message() == "pod deleting");
        node.pods.pods.clear();
        CHECK(node.pod("a").message() == "pod unknown");
    }
    SECTION("drained: withdrawn although routed") {
        node.drained = true;
        const auto a = node.pod("a");
        CHECK(a.state == AnnouncementState::withdrawn);
        CHECK(a.reason == "Drained");
    }
    SECTION("every address refused") {
        node.policy.allowed_prefixes = {prefix("10.254.0.0/16")};
        const auto a = node.pod("a");
        CHECK(a.state == AnnouncementState::withdrawn);
        CHECK(a.reason == "Refused");
        CHECK(a.refusals.size() == 2);
    }
}

TEST_CASE("a pod's stale record of an older incarnation does not withdraw the current one", "[unit][reconciler]") {
    Node node;
    node.add(test::RecordBuilder("k8s", "c-a-old").pod("dns", "a", "old-uid").ip("10.255.53.53"));
    CHECK(node.pod("a").state == AnnouncementState::announced);
    // Only the old incarnation's record: not eligible, and the reason says why.
    node.records.erase(node.records.begin());
    CHECK(node.pod("a").message() == "pod uid differs");
}
