// diff_desired (interface names → ifindexes, changes against the kernel) and plan rendering.
#include "reconciler/cli/plan.hpp"
#include "reconciler/pipeline/desired_diff.hpp"

#include "test/support/record_builder.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace anycast;
using common::IpAddress;
using common::Prefix;
using common::netlink::NextHop;
using common::netlink::Route;
using common::netlink::RouteChange;
using reconciler::DesiredHop;
using reconciler::DesiredRoute;
using reconciler::LinkTable;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Prefix prefix(const char* text) { return *Prefix::parse(text); }

// protocol 241, table 241; the route-level cases in multipath mode (resilient groups: below)
const common::RouteSettings k_settings{241, 241, 1000, common::EcmpMode::multipath};

LinkTable links() {
    return LinkTable({{1, "lo", true}, {7, "veth-a", true}, {8, "veth-b", true}, {9, "veth-down", false}});
}

Route kernel_route(const char* destination, std::vector<NextHop> hops) {
    return Route{prefix(destination), std::move(hops), k_settings.protocol, k_settings.table};
}

std::vector<std::string> describe(const reconciler::RouteDiff& diff) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < diff.route_change_count(); ++i) {
        const auto change = diff.route_change(i);
        std::string line = change.kind == RouteChange::Kind::replace ? "replace " : "delete ";
        line += change.route->destination.to_string();
        for (const auto& hop : change.route->hops)
            line += " " + hop.gateway.to_string() + "@" + std::to_string(hop.ifindex);
        out.push_back(line);
    }
    return out;
}

}  // namespace

TEST_CASE("diff_desired maps interface names and changes only what differs", "[unit][reconciler]") {
    const DesiredRoute two{prefix("10.255.53.53/32"), {{ip("10.0.0.12"), "veth-a"}, {ip("10.0.0.13"), "veth-b"}}};
    const DesiredRoute v6{prefix("fd00:255::53/128"), {{ip("fd00::12"), "veth-a"}}};
    const Route two_installed = kernel_route("10.255.53.53/32", {{ip("10.0.0.12"), 7}, {ip("10.0.0.13"), 8}});
    struct Case {
        std::string name;
        std::vector<DesiredRoute> desired;
        std::vector<Route> kernel;
        std::vector<std::string> expected;
        std::size_t skipped;
    };
    const std::vector<Case> cases = {
        {"nothing anywhere", {}, {}, {}, 0},
        {"missing route is created", {two}, {}, {"replace 10.255.53.53/32 10.0.0.12@7 10.0.0.13@8"}, 0},
        {"equal route is left alone", {two}, {two_installed}, {}, 0},
        {"changed hop set is one whole replace",
         {two},
         {kernel_route("10.255.53.53/32", {{ip("10.0.0.12"), 7}})},
         {"replace 10.255.53.53/32 10.0.0.12@7 10.0.0.13@8"},
         0},
        {"route no longer desired is deleted",
         {},
         {two_installed},
         {"delete 10.255.53.53/32 10.0.0.12@7 10.0.0.13@8"},
         0},
        {"families are separate routes", {two, v6}, {two_installed}, {"replace fd00:255::53/128 fd00::12@7"}, 0},
        {"unknown interface leaves the hop out",
         {DesiredRoute{prefix("10.255.53.53/32"), {{ip("10.0.0.12"), "veth-a"}, {ip("10.0.0.14"), "veth-gone"}}}},
         {},
         {"replace 10.255.53.53/32 10.0.0.12@7"},
         1},
        {"down interface leaves the hop out; no hop left means delete",
         {DesiredRoute{prefix("10.255.53.53/32"), {{ip("10.0.0.15"), "veth-down"}}}},
         {two_installed},
         {"delete 10.255.53.53/32 10.0.0.12@7 10.0.0.13@8"},
         1},
        {"replaces come before deletes",
         {v6},
         {two_installed},
         {"replace fd00:255::53/128 fd00::12@7", "delete 10.255.53.53/32 10.0.0.12@7 10.0.0.13@8"},
         0},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            const auto diff = reconciler::diff_desired(c.desired, c.kernel, links(), k_settings);
            CHECK(describe(diff) == c.expected);
            CHECK(diff.skipped.size() == c.skipped);
            CHECK(diff.no_changes() == c.expected.empty());
        }
    }
}

TEST_CASE("installed prefixes are the target minus failed replaces", "[unit][reconciler]") {
    const std::vector<DesiredRoute> desired = {
        {prefix("10.255.53.53/32"), {{ip("10.0.0.12"), "veth-a"}}},
        {prefix("10.255.53.54/32"), {{ip("10.0.0.12"), "veth-a"}}},
        {prefix("10.255.53.55/32"), {{ip("10.0.0.12"), "veth-a"}}},
    };
    const std::vector<Route> kernel = {kernel_route("10.255.53.55/32", {{ip("10.0.0.12"), 7}}),
                                       kernel_route("10.255.9.9/32", {{ip("10.0.0.12"), 7}})};
    auto diff = reconciler::diff_desired(desired, kernel, links(), k_settings);
    REQUIRE(diff.route_change_count() == 3);  // replace .53, replace .54, delete 10.255.9.9
    std::vector<Prefix> installed;
    for (const auto& route : reconciler::take_installed(diff, {0, 22, 1})) installed.push_back(route.destination);
    CHECK(installed == std::vector<Prefix>{prefix("10.255.53.53/32"), prefix("10.255.53.55/32")});
}

TEST_CASE("resilient mode: a group per route, nothing to write once applied, a pod leaving replaces only the group",
          "[unit][reconciler]") {
    common::RouteSettings settings;  // resilient by default
    const std::vector<DesiredRoute> three = {
        {prefix("10.255.53.53/32"), {{ip("10.0.0.12"), "veth-a"}, {ip("10.0.0.13"), "veth-b"}}},
        {prefix("fd00:255::53/128"), {{ip("fd00::12"), "veth-a"}}},
    };
    const auto first = reconciler::diff_desired(three, {}, links(), settings);
    CHECK(first.nexthops_first.size() == 5);  // three gateways, two groups
    CHECK(first.route_change_count() == 2);
    for (const auto& route : first.target) CHECK(route.nexthop_id != 0);

    // The kernel now holds what the pass wrote: the same desired set writes nothing.
    auto written = first;
    const common::netlink::NexthopTable applied{reconciler::take_nexthops(written, {}), {}};
    CHECK(applied.ours.size() == 5);
    const auto again = reconciler::diff_desired(three, first.target, links(), settings, applied);
    CHECK(again.no_changes());

    const std::vector<DesiredRoute> one_left = {
        {prefix("10.255.53.53/32"), {{ip("10.0.0.12"), "veth-a"}}},
        {prefix("fd00:255::53/128"), {{ip("fd00::12"), "veth-a"}}},
    };
    const auto shrink = reconciler::diff_desired(one_left, first.target, links(), settings, applied);
    CHECK(shrink.route_change_count() == 0);  // the routes keep naming their groups
    REQUIRE(shrink.nexthops_first.size() == 1);
    CHECK(shrink.nexthops_first[0].kind == common::netlink::NexthopChange::Kind::replace);
    REQUIRE(shrink.nexthops_last.size() == 1);
    CHECK(shrink.nexthops_last[0].nexthop.hop->gateway == ip("10.0.0.13"));

    // multipath mode takes the objects away after the routes are rewritten with their hops.
    settings.ecmp = common::EcmpMode::multipath;
    const auto back = reconciler::diff_desired(three, first.target, links(), settings, applied);
    CHECK(back.route_change_count() == 2);
    CHECK(back.nexthops_first.empty());
    CHECK(back.nexthops_last.size() == 5);
    auto taken = back;
    CHECK(reconciler::take_nexthops(taken, applied.ours).empty());
}

namespace {

common::Record record(const char* pod, const char* via, const char* iface) {
    return test::RecordBuilder("k8s", std::string("c-") + pod)
        .pod("dns", pod)
        .ip("10.255.53.53")
        .ip("10.1.0.1")
        .nexthop(via, iface)
        .build();
}

}  // namespace

TEST_CASE("plan renders desired routes, kernel routes, changes and skips as exact text", "[unit][reconciler]") {
    common::NodeConfig config;
    config.node = "worker-1";
    config.policy.allowed_prefixes = {prefix("10.255.0.0/16")};
    config.bird.fragment = "/etc/bird/flock-anycast.conf";
    config.routes.ecmp = common::EcmpMode::multipath;
    const std::vector<common::Record> records = {record("a", "10.0.0.12", "veth-a"),
                                                 record("b", "10.0.0.13", "veth-b")};
    const reconciler::ReadinessSnapshot pods{false, {{"dns", "a", "", true, false}, {"dns", "b", "", true, false}}};
    const std::vector<Route> kernel = {kernel_route("10.255.53.53/32", {{ip("10.0.0.12"), 7}}),
                                       kernel_route("10.255.60.1/32", {{ip("10.0.0.9"), 42}})};
    const LinkTable table = links();
    const auto plan =
        reconciler::make_plan({config, records, pods, "file /run/pods.json", kernel, std::nullopt, table});

    CHECK(reconciler::render_plan_text(plan) ==
          "node worker-1: table 241, protocol 241; 2 records, 2 eligible; readiness file /run/pods.json\n"
          "desired routes (1):\n"
          "  10.255.53.53/32 via 10.0.0.12 dev veth-a, via 10.0.0.13 dev veth-b\n"
          "kernel routes of ours (2):\n"
          "  10.255.53.53/32 via 10.0.0.12 dev veth-a\n"
          "  10.255.60.1/32 via 10.0.0.9 dev if42\n"
          "changes (2):\n"
          "  replace 10.255.53.53/32 via 10.0.0.12 dev veth-a, via 10.0.0.13 dev veth-b\n"
          "  delete 10.255.60.1/32 via 10.0.0.9 dev if42\n"
          "skipped (2):\n"
          "  k8s_c-a_eth0: 10.1.0.1 skipped: 10.1.0.1 is outside policy.allowedPrefixes (10.255.0.0/16)\n"
          "  k8s_c-b_eth0: 10.1.0.1 skipped: 10.1.0.1 is outside policy.allowedPrefixes (10.255.0.0/16)\n"
          "bird include /etc/bird/flock-anycast.conf:\n"
          "  # Written by flock-anycast serve: the anycast prefixes it has routes for.\n"
          "  # Do not edit; it is rewritten on every change and read by flock.conf.\n"
          "  define FLOCK_ANYCAST_V4 = [ 10.255.53.53/32 ];\n"
          "  define FLOCK_ANYCAST_V6 = [ ];\n"
          "  # Per-prefix BGP attributes (bgp.prefixes in the node config), most specific prefix first.\n"
          "  function flock_prefix_attributes()\n"
          "  {\n"
          "      return true;\n"
          "  }\n");

    const auto json = reconciler::plan_to_json(plan).as_object();
    CHECK(json.at("kernelReadable").as_bool());
    CHECK(json.at("replace").as_array().size() == 1);
    CHECK(json.at("delete").as_array().at(0).as_string() == "10.255.60.1/32 via 10.0.0.9 dev if42");
    CHECK(json.at("desired").as_array().at(0).at("nexthops").as_array().size() == 2);
}

TEST_CASE("plan without a readable kernel diffs against an empty table and says so", "[unit][reconciler]") {
    common::NodeConfig config;
    config.node = "n";
    config.policy.allowed_prefixes = {prefix("10.255.0.0/16")};
    config.bird.enabled = false;
    config.routes.ecmp = common::EcmpMode::multipath;
    const std::vector<common::Record> records = {record("a", "10.0.0.12", "veth-a")};
    const reconciler::ReadinessSnapshot pods{true, {}};
    const std::vector<Route> none;
    const LinkTable table = links();
    const auto plan =
        reconciler::make_plan({config, records, pods, "always", none, std::string("Operation not permitted"), table});
    const std::string text = reconciler::render_plan_text(plan);
    CHECK(text.find("kernel routes not readable (Operation not permitted): diffing against an empty table\n") !=
          std::string::npos);
    CHECK(text.find("  replace 10.255.53.53/32 via 10.0.0.12 dev veth-a\n") != std::string::npos);
    CHECK(text.find("bird include") == std::string::npos);
    CHECK_FALSE(reconciler::plan_to_json(plan).at("kernelReadable").as_bool());
}
