// status's figures table: from the running serve's samples, or from the kernel and the
// records when serve does not answer.
#include "reconciler/cli/status.hpp"

#include <catch2/catch.hpp>

using namespace anycast;
using reconciler::figures_from_kernel;
using reconciler::figures_from_serve;
using reconciler::render_figures;

namespace {

common::netlink::Route route(const char* destination, std::size_t hops) {
    common::netlink::Route out;
    out.destination = *common::Prefix::parse(destination);
    out.hops.resize(hops);
    return out;
}

}  // namespace

TEST_CASE("status shows serve's figures as a table and says they come from the running serve", "[unit][reconciler]") {
    const std::map<std::string, double> samples = {
        {"flock_anycast_reconcile_passes_total{result=\"success\"}", 41},
        {"flock_anycast_reconcile_passes_total{result=\"failure\"}", 1},
        {"flock_anycast_last_successful_pass_timestamp_seconds", 1000},
        {"flock_anycast_routes_installed{family=\"ipv4\"}", 2},
        {"flock_anycast_routes_installed{family=\"ipv6\"}", 1},
        {"flock_anycast_nexthops{family=\"ipv4\"}", 4},
        {"flock_anycast_nexthops{family=\"ipv6\"}", 2},
        {"flock_anycast_records", 3},
        {"flock_anycast_eligible_pods", 2},
        {"flock_anycast_netlink_errors_total", 0},
        {"flock_anycast_bird_reloads_total{result=\"success\"}", 7},
        {"flock_anycast_bird_reloads_total{result=\"failure\"}", 2},
        {"flock_anycast_kube_watch_restarts_total", 5},
        {"flock_anycast_kube_relists_total", 2},
        {"flock_anycast_node_watch_synced", 1},
        {"flock_anycast_node_watch_failures_total", 3},
        {"flock_anycast_drain_state", 2},
        {"flock_anycast_drain_state_since_timestamp_seconds", 1000},
        {"flock_anycast_drain_reasons{cause=\"manual\"}", 0},
        {"flock_anycast_drain_reasons{cause=\"cordon\"}", 1},
        {"flock_anycast_drain_reasons{cause=\"taint\"}", 2},
    };
    const auto figures = figures_from_serve("http://127.0.0.1:9641/metrics", samples, "ready", 1012.5);
    CHECK(render_figures(figures) ==
          "figures from the running serve (http://127.0.0.1:9641/metrics):\n"
          "  readiness             ready\n"
          "  reconcile passes      41 ok, 1 failed\n"
          "  last successful pass  12.5 s ago\n"
          "  routes installed      ipv4 2, ipv6 1\n"
          "  next hops             ipv4 4, ipv6 2\n"
          "  records               3\n"
          "  eligible pods         2\n"
          "  netlink errors        0\n"
          "  bird reloads          7 ok, 2 failed\n"
          "  kube watch restarts   5\n"
          "  kube relists          2\n"
          "  node watch            listed, 3 failures\n"
          "  drain                 drained, changed 12.5 s ago; reasons: cordon, taint (flock-anycast drain-status for "
          "more)\n");
}

TEST_CASE("serve's figures: no pass yet, readiness unknown, old passes and series serve lacks", "[unit][reconciler]") {
    std::map<std::string, double> samples = {{"flock_anycast_last_successful_pass_timestamp_seconds", 0}};
    auto text = render_figures(figures_from_serve("http://x/metrics", samples, std::nullopt, 5000));
    CHECK(text.find("  readiness             unknown (/readyz did not answer)\n") != std::string::npos);
    CHECK(text.find("  last successful pass  none yet\n") != std::string::npos);
    CHECK(text.find("  routes installed      ipv4 n/a, ipv6 n/a\n") != std::string::npos);
    CHECK(text.find("  kube relists          n/a\n") != std::string::npos);
    CHECK(text.find("  node watch            n/a\n") != std::string::npos);

    samples["flock_anycast_last_successful_pass_timestamp_seconds"] = 5000 - 3725;
    text = render_figures(
        figures_from_serve("http://x/metrics", samples, "not ready: first reconcile pass not done", 5000));
    CHECK(text.find("  last successful pass  1 h 2 min ago\n") != std::string::npos);
    CHECK(text.find("  readiness             not ready: first reconcile pass not done\n") != std::string::npos);
    samples["flock_anycast_last_successful_pass_timestamp_seconds"] = 5000 - 125;
    text = render_figures(figures_from_serve("http://x/metrics", samples, "ready", 5000));
    CHECK(text.find("  last successful pass  2 min 5 s ago\n") != std::string::npos);
}

TEST_CASE("without serve, status counts routes and hops from the kernel and records from the plan",
          "[unit][reconciler]") {
    reconciler::Plan plan;
    plan.records = 3;
    plan.eligible_records = 2;
    const std::vector<common::netlink::Route> kernel = {route("10.255.53.53/32", 2), route("10.255.53.54/32", 1),
                                                        route("fd00:255::53/128", 2)};
    CHECK(render_figures(figures_from_kernel("no running serve answered (refused)", plan, kernel)) ==
          "no running serve answered (refused); figures from the kernel and the records:\n"
          "  routes installed  ipv4 2, ipv6 1\n"
          "  next hops         ipv4 3, ipv6 2\n"
          "  records           3\n"
          "  eligible pods     2\n");

    plan.kernel_unreadable = "Operation not permitted";
    const auto text = render_figures(figures_from_kernel("disabled", plan, {}));
    CHECK(text.find("  routes installed  unknown (kernel routes not readable)\n") != std::string::npos);
    CHECK(text.find("  records           3\n") != std::string::npos);
}
