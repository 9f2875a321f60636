// resolve: records × readiness × policy → desired routes. Table-driven, no root.
#include "reconciler/pipeline/resolve.hpp"

#include "test/support/record_builder.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace anycast;
using common::Family;
using common::Prefix;
using reconciler::DesiredHop;
using reconciler::DesiredRoute;
using reconciler::ReadinessSnapshot;

namespace {

Prefix prefix(const char* text) { return *Prefix::parse(text); }

common::Policy open_policy() {
    common::Policy policy;
    policy.allowed_prefixes = {prefix("10.255.0.0/16"), prefix("fd00:255::/48")};
    return policy;
}

struct RecordSpec {
    std::string ns = "dns";
    std::string pod;
    std::string uid;
    std::vector<std::string> ips;
    std::vector<std::pair<std::string, std::string>> hops;  // via, iface
};

common::Record make_record(const RecordSpec& spec) {
    test::RecordBuilder record("k8s", "c-" + spec.pod);
    record.pod(spec.ns, spec.pod, spec.uid).ips(spec.ips);
    for (const auto& [via, iface] : spec.hops) record.nexthop(via, iface);
    return record.build();
}

common::PodState pod(const std::string& name, bool ready = true, bool deleting = false, std::string uid = "") {
    return common::PodState{"dns", name, std::move(uid), ready, deleting};
}

std::string render(const std::vector<DesiredRoute>& routes) {
    std::string text;
    for (const auto& route : routes) {
        text += route.destination.to_string();
        for (const auto& hop : route.hops) text += " " + hop.via.to_string() + "@" + hop.iface;
        text += ";";
    }
    return text;
}

}  // namespace

TEST_CASE("resolve turns eligible records into sorted, deduped routes per family", "[unit][reconciler]") {
    struct Case {
        std::string name;
        std::vector<RecordSpec> records;
        std::vector<common::PodState> pods;
        bool all_ready;
        std::string expected;
        std::size_t skipped;
    };
    const RecordSpec a{"dns", "a", "", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}};
    const RecordSpec b{"dns", "b", "", {"10.255.53.53"}, {{"10.0.0.13", "veth-b"}}};
    const RecordSpec dual{
        "dns", "d", "", {"10.255.53.53", "fd00:255::53"}, {{"fd00::12", "veth-d"}, {"10.0.0.20", "veth-d"}}};
    const std::vector<Case> cases = {
        {"no records", {}, {}, false, "", 0},
        {"one ready pod", {a}, {pod("a")}, false, "10.255.53.53/32 10.0.0.12@veth-a;", 0},
        {"unknown pod", {a}, {pod("other")}, false, "", 0},
        {"not ready", {a}, {pod("a", false)}, false, "", 0},
        {"deleting", {a}, {pod("a", true, true)}, false, "", 0},
        {"two ready pods give one multipath route, sorted",
         {b, a},
         {pod("a"), pod("b")},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a 10.0.0.13@veth-b;",
         0},
        {"one of two deleting leaves one hop",
         {a, b},
         {pod("a"), pod("b", true, true)},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a;",
         0},
        {"duplicate records dedupe", {a, a}, {pod("a")}, false, "10.255.53.53/32 10.0.0.12@veth-a;", 0},
        {"an IP listed twice in a record written out of order counts once, and so does its refusal",
         {RecordSpec{"dns",
                     "a",
                     "",
                     {"10.255.53.54", "10.1.0.1", "10.255.53.53", "10.255.53.54", "10.1.0.1"},
                     {{"10.0.0.12", "veth-a"}}}},
         {pod("a")},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a;10.255.53.54/32 10.0.0.12@veth-a;",
         1},
        {"families kept apart",
         {dual},
         {pod("d")},
         false,
         "10.255.53.53/32 10.0.0.20@veth-d;fd00:255::53/128 fd00::12@veth-d;",
         0},
        {"always source makes every record eligible",
         {a, b},
         {},
         true,
         "10.255.53.53/32 10.0.0.12@veth-a 10.0.0.13@veth-b;",
         0},
        {"uid mismatch is not eligible",
         {RecordSpec{"dns", "a", "u1", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}}},
         {pod("a", true, false, "u2")},
         false,
         "",
         0},
        {"uid match is eligible",
         {RecordSpec{"dns", "a", "u1", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}}},
         {pod("a", true, false, "u1")},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a;",
         0},
        {"record without uid matches any uid",
         {a},
         {pod("a", true, false, "u9")},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a;",
         0},
        {"IP outside policy skipped even when ready",
         {RecordSpec{"dns", "a", "", {"10.1.0.1", "10.255.53.53"}, {{"10.0.0.12", "veth-a"}}}},
         {pod("a")},
         false,
         "10.255.53.53/32 10.0.0.12@veth-a;",
         1},
        {"IP without a next hop of its family skipped",
         {RecordSpec{"dns", "a", "", {"fd00:255::1"}, {{"10.0.0.12", "veth-a"}}}},
         {pod("a")},
         false,
         "",
         1},
        {"next hop without interface skipped",
         {RecordSpec{"dns", "a", "", {"10.255.53.53"}, {{"10.0.0.12", ""}}}},
         {pod("a")},
         false,
         "",
         2},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            std::vector<common::Record> records;
            for (const auto& spec : c.records) records.push_back(make_record(spec));
            const auto resolved = reconciler::resolve(records, ReadinessSnapshot{c.all_ready, c.pods}, open_policy());
            CHECK(render(resolved.routes) == c.expected);
            CHECK(resolved.skipped.size() == c.skipped);
        }
    }
}

TEST_CASE("resolve applies namespace policy: a listed namespace may claim only its own prefixes",
          "[unit][reconciler]") {
    common::Policy policy = open_policy();
    policy.namespaces["dns"] = {prefix("10.255.53.0/24")};
    const auto own = make_record({"dns", "a", "", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}});
    const auto other_prefix = make_record({"dns", "a", "", {"10.255.60.1"}, {{"10.0.0.12", "veth-a"}}});
    const auto other_ns = make_record({"web", "w", "", {"10.255.60.1"}, {{"10.0.0.30", "veth-w"}}});
    const ReadinessSnapshot pods{false, {pod("a"), common::PodState{"web", "w", "", true, false}}};

    const auto resolved = reconciler::resolve({own, other_prefix, other_ns}, pods, policy);
    CHECK(render(resolved.routes) == "10.255.53.53/32 10.0.0.12@veth-a;10.255.60.1/32 10.0.0.30@veth-w;");
    REQUIRE(resolved.skipped.size() == 1);
    CHECK(resolved.skipped[0].subject == "k8s_c-a_eth0");
    CHECK(resolved.skipped[0].problem ==
          "10.255.60.1 skipped: 10.255.60.1 is outside the prefixes of namespace dns (10.255.53.0/24)");
}

TEST_CASE(
    "resolve re-checks reservations: another namespace's record for a listed prefix is skipped, "
    "IPv4 and IPv6",
    "[unit][reconciler]") {
    common::Policy policy = open_policy();
    policy.namespaces["dns"] = {prefix("10.255.53.0/24"), prefix("fd00:255:53::/64")};
    const auto dns = make_record(
        {"dns", "a", "", {"10.255.53.53", "fd00:255:53::53"}, {{"10.0.0.12", "veth-a"}, {"fd00::12", "veth-a"}}});
    const auto web = make_record(
        {"web", "w", "", {"10.255.53.53", "fd00:255:53::53"}, {{"10.0.0.30", "veth-w"}, {"fd00::30", "veth-w"}}});
    const ReadinessSnapshot pods{false, {pod("a"), common::PodState{"web", "w", "", true, false}}};

    const auto resolved = reconciler::resolve({dns, web}, pods, policy);
    CHECK(render(resolved.routes) == "10.255.53.53/32 10.0.0.12@veth-a;fd00:255:53::53/128 fd00::12@veth-a;");
    REQUIRE(resolved.skipped.size() == 2);
    CHECK(resolved.skipped[0].problem ==
          "10.255.53.53 skipped: 10.255.53.53 is reserved for namespace dns (10.255.53.0/24, fd00:255:53::/64)");
    CHECK(resolved.skipped[1].problem ==
          "fd00:255:53::53 skipped: fd00:255:53::53 is reserved for namespace dns (10.255.53.0/24, "
          "fd00:255:53::/64)");
}

TEST_CASE("resolve with an empty policy allows nothing", "[unit][reconciler]") {
    const auto record = make_record({"dns", "a", "", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}});
    const auto resolved = reconciler::resolve({record}, ReadinessSnapshot{true, {}}, common::Policy{});
    CHECK(resolved.routes.empty());
    CHECK(resolved.skipped.size() == 1);
}

TEST_CASE("resolve routes records of a newer version and skips mismatched next-hop families", "[unit][reconciler]") {
    // A downgrade: records written by a newer build are read by the fields this one knows.
    auto newer = make_record({"dns", "a", "", {"10.255.53.53"}, {{"10.0.0.12", "veth-a"}}});
    newer.version = 2;
    auto mismatched = make_record({"dns", "b", "", {"10.255.53.53"}, {{"10.0.0.13", "veth-b"}}});
    mismatched.nexthops[0].family = Family::v6;
    const auto resolved = reconciler::resolve({newer, mismatched}, ReadinessSnapshot{true, {}}, open_policy());
    REQUIRE(resolved.routes.size() == 1);
    CHECK(resolved.routes[0].hops.size() == 1);
    // The mismatched hop, then record b's IP left without a v4 next hop.
    CHECK(resolved.skipped.size() == 2);
}

TEST_CASE("equal next-hop sets compare equal whatever the record order", "[unit][reconciler]") {
    const auto a = make_record(
        {"dns", "a", "", {"10.255.53.53", "fd00:255::53"}, {{"10.0.0.12", "veth-a"}, {"fd00::12", "veth-a"}}});
    const auto b = make_record(
        {"dns", "b", "", {"fd00:255::53", "10.255.53.53"}, {{"fd00::13", "veth-b"}, {"10.0.0.13", "veth-b"}}});
    const ReadinessSnapshot all{true, {}};
    CHECK(reconciler::resolve({a, b}, all, open_policy()).routes ==
          reconciler::resolve({b, a}, all, open_policy()).routes);
}

TEST_CASE("prepared records resolve each snapshot as a fresh resolve does, from the pods to their records",
          "[unit][reconciler]") {
    std::vector<common::Record> records;
    records.push_back(make_record({.pod = "a", .uid = "", .ips = {"10.255.0.1"}, .hops = {{"10.0.0.2", "veth-a"}}}));
    records.push_back(make_record({.pod = "b", .uid = "u-b", .ips = {"10.255.0.1"}, .hops = {{"10.0.0.3", "veth-b"}}}));
    records.push_back(
        make_record({.pod = "c", .uid = "", .ips = {"10.255.0.2", "192.0.2.1"}, .hops = {{"10.0.0.4", "veth-c"}}}));
    std::vector<reconciler::RouteRecord> route_records;
    for (const auto& record : records) route_records.push_back(reconciler::route_record(record.pod.name, record));
    std::vector<const reconciler::RouteRecord*> pointers;
    for (const auto& record : route_records) pointers.push_back(&record);
    const reconciler::PreparedRecords prepared(pointers, open_policy());
    // Refusals are known before any pod is: 192.0.2.1 is outside policy.
    REQUIRE(prepared.skipped().size() == 1);
    CHECK(prepared.skipped()[0].problem.find("192.0.2.1 skipped") == 0);
    CHECK(prepared.of_pod("dns", "b").size() == 1);
    CHECK(prepared.of_pod("dns", "z").empty());

    const std::vector<ReadinessSnapshot> snapshots = {
        {false, {}},
        {false, {pod("a"), pod("b", true, false, "u-b"), pod("c")}},
        {false, {pod("b", true, false, "u-other"), pod("c", false)}},  // uid differs; not ready
        {false, {pod("a", false), pod("a"), pod("c", true, true)}},    // the first "a" decides; deleting
        {false, {pod("zz"), pod("a")}},                                // unknown pods cost nothing
        {true, {}},                                                    // all ready
    };
    for (std::size_t i = 0; i < snapshots.size(); ++i) {
        INFO("snapshot " << i);
        const auto prepared_result = reconciler::resolve(prepared, snapshots[i]);
        const auto fresh = reconciler::resolve(records, snapshots[i], open_policy());
        CHECK(render(prepared_result.routes) == render(fresh.routes));
        CHECK(prepared_result.eligible_records == fresh.eligible_records);
        CHECK(prepared_result.skipped.size() == fresh.skipped.size());
    }
    CHECK(render(reconciler::resolve(prepared, snapshots[1]).routes) ==
          "10.255.0.1/32 10.0.0.2@veth-a 10.0.0.3@veth-b;10.255.0.2/32 10.0.0.4@veth-c;");
    CHECK(reconciler::resolve(prepared, snapshots[3]).routes.empty());
}
