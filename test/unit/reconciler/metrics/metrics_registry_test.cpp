#include "reconciler/metrics/health.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/metrics/metrics_listen.hpp"
#include "reconciler/metrics/metrics_registry.hpp"
#include "reconciler/metrics/metrics_scrape.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace anycast::reconciler;
using namespace anycast::reconciler::metrics;

TEST_CASE("a counter and a gauge render HELP, TYPE and one sample each", "[unit]") {
    Registry registry;
    auto& errors = registry.counter("demo_errors_total", "Errors seen.");
    auto& temperature = registry.gauge("demo_temperature", "Current temperature.");
    errors.inc();
    errors.inc(2);
    temperature.set(21.5);
    temperature.dec(0.5);
    CHECK(registry.render() ==
          "# HELP demo_errors_total Errors seen.\n"
          "# TYPE demo_errors_total counter\n"
          "demo_errors_total 3\n"
          "# HELP demo_temperature Current temperature.\n"
          "# TYPE demo_temperature gauge\n"
          "demo_temperature 21\n");
}

TEST_CASE("labelled children render sorted by label values, with escaped values", "[unit]") {
    Registry registry;
    auto& requests = registry.counter_family("demo_requests_total", "Requests by code and path.", {"code", "path"});
    requests.with({"500", "/b"}).inc();
    requests.with({"200", "/a\"q\\\n"}).inc(4);
    requests.with({"200", "/a"}).inc();
    CHECK(registry.render() ==
          "# HELP demo_requests_total Requests by code and path.\n"
          "# TYPE demo_requests_total counter\n"
          "demo_requests_total{code=\"200\",path=\"/a\"} 1\n"
          "demo_requests_total{code=\"200\",path=\"/a\\\"q\\\\\\n\"} 4\n"
          "demo_requests_total{code=\"500\",path=\"/b\"} 1\n");
}

TEST_CASE("a histogram renders cumulative buckets with le, +Inf, _sum and _count", "[unit]") {
    Registry registry;
    auto& latency = registry.histogram_family("demo_latency_seconds", "Latency.", {"op"}, {0.25, 1, 4});
    auto& get = latency.with({"get"});
    // Binary fractions, so the sum is exact.
    get.observe(0.125);
    get.observe(0.25);  // equal to a bound: counted in that bucket (le = less or equal)
    get.observe(3.5);
    get.observe(8);
    CHECK(get.count() == 4);
    CHECK(registry.render() ==
          "# HELP demo_latency_seconds Latency.\n"
          "# TYPE demo_latency_seconds histogram\n"
          "demo_latency_seconds_bucket{op=\"get\",le=\"0.25\"} 2\n"
          "demo_latency_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
          "demo_latency_seconds_bucket{op=\"get\",le=\"4\"} 3\n"
          "demo_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
          "demo_latency_seconds_sum{op=\"get\"} 11.875\n"
          "demo_latency_seconds_count{op=\"get\"} 4\n");

    Registry plain;
    plain.histogram("demo_size_bytes", "Sizes.", {1, 10});
    CHECK(plain.render() ==
          "# HELP demo_size_bytes Sizes.\n"
          "# TYPE demo_size_bytes histogram\n"
          "demo_size_bytes_bucket{le=\"1\"} 0\n"
          "demo_size_bytes_bucket{le=\"10\"} 0\n"
          "demo_size_bytes_bucket{le=\"+Inf\"} 0\n"
          "demo_size_bytes_sum 0\n"
          "demo_size_bytes_count 0\n");
}

TEST_CASE("a family without children renders only HELP and TYPE; HELP escapes newline and backslash", "[unit]") {
    Registry registry;
    registry.gauge_family("demo_empty", "Line one\nback\\slash", {"x"});
    CHECK(registry.render() == "# HELP demo_empty Line one\\nback\\\\slash\n# TYPE demo_empty gauge\n");
}

TEST_CASE("sample values use the text format's spelling", "[unit]") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(42) == "42");
    CHECK(format_value(0.00025) == "0.00025");
    CHECK(format_value(1732450000.0) == "1732450000");
    CHECK(format_value(-1.5) == "-1.5");
    CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
    CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
    CHECK(format_value(std::nan("")) == "NaN");
}

TEST_CASE("the registry refuses bad names, duplicate names, wrong label counts and bad buckets", "[unit]") {
    Registry registry;
    registry.counter("demo_total", "x");
    CHECK_THROWS_AS(registry.counter("demo_total", "again"), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge("9starts_with_digit", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge("has-dash", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge_family("demo_g", "x", {"bad:label"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.gauge_family("demo_g2", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram_family("demo_h", "x", {"le"}, {1}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram("demo_h2", "x", {1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram("demo_h3", "x", {2, 1}), std::invalid_argument);
    auto& family = registry.counter_family("demo_f_total", "x", {"a", "b"});
    CHECK_THROWS_AS(family.with({"only-one"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("demo_c_total", "x").inc(-1), std::invalid_argument);
}

TEST_CASE("serve's metric set starts with every series at zero", "[unit]") {
    Metrics m;
    CHECK(m.registry.render() ==
          "# HELP flock_anycast_reconcile_passes_total Reconcile passes run, by result.\n"
          "# TYPE flock_anycast_reconcile_passes_total counter\n"
          "flock_anycast_reconcile_passes_total{result=\"failure\"} 0\n"
          "flock_anycast_reconcile_passes_total{result=\"success\"} 0\n"
          "# HELP flock_anycast_reconcile_duration_seconds Duration of reconcile passes in seconds.\n"
          "# TYPE flock_anycast_reconcile_duration_seconds histogram\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.0001\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.00025\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.0005\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.001\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.0025\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.005\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.01\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.025\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.05\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.1\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.25\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.5\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"1\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"2.5\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_bucket{le=\"+Inf\"} 0\n"
          "flock_anycast_reconcile_duration_seconds_sum 0\n"
          "flock_anycast_reconcile_duration_seconds_count 0\n"
          "# HELP flock_anycast_routes_installed Anycast host routes of ours installed in the kernel, by "
          "address family.\n"
          "# TYPE flock_anycast_routes_installed gauge\n"
          "flock_anycast_routes_installed{family=\"ipv4\"} 0\n"
          "flock_anycast_routes_installed{family=\"ipv6\"} 0\n"
          "# HELP flock_anycast_nexthops Next hops over all installed anycast routes, by address family.\n"
          "# TYPE flock_anycast_nexthops gauge\n"
          "flock_anycast_nexthops{family=\"ipv4\"} 0\n"
          "flock_anycast_nexthops{family=\"ipv6\"} 0\n"
          "# HELP flock_anycast_netlink_errors_total Netlink requests that failed (refused by the kernel or not "
          "sent).\n"
          "# TYPE flock_anycast_netlink_errors_total counter\n"
          "flock_anycast_netlink_errors_total 0\n"
          "# HELP flock_anycast_bird_reloads_total BIRD configure requests sent over the control socket, by "
          "result.\n"
          "# TYPE flock_anycast_bird_reloads_total counter\n"
          "flock_anycast_bird_reloads_total{result=\"failure\"} 0\n"
          "flock_anycast_bird_reloads_total{result=\"success\"} 0\n"
          "# HELP flock_anycast_bird_include_write_failures_total Writes of the BIRD include that failed (each "
          "is retried with backoff until one succeeds).\n"
          "# TYPE flock_anycast_bird_include_write_failures_total counter\n"
          "flock_anycast_bird_include_write_failures_total 0\n"
          "# HELP flock_anycast_config_reloads_total SIGHUP config reloads: applied whole (success), or not "
          "applied at all, the running config kept (failure).\n"
          "# TYPE flock_anycast_config_reloads_total counter\n"
          "flock_anycast_config_reloads_total{result=\"failure\"} 0\n"
          "flock_anycast_config_reloads_total{result=\"success\"} 0\n"
          "# HELP flock_anycast_kube_watch_restarts_total Kubernetes pod watches restarted (stream ended or "
          "failed).\n"
          "# TYPE flock_anycast_kube_watch_restarts_total counter\n"
          "flock_anycast_kube_watch_restarts_total 0\n"
          "# HELP flock_anycast_kube_relists_total Full pod lists fetched from the apiserver (start, expiry, "
          "reconnect).\n"
          "# TYPE flock_anycast_kube_relists_total counter\n"
          "flock_anycast_kube_relists_total 0\n"
          "# HELP flock_anycast_node_watch_synced 1 once the Node object has been listed (the drain follows it); "
          "0 before, and when the node watch is off or could not start.\n"
          "# TYPE flock_anycast_node_watch_synced gauge\n"
          "flock_anycast_node_watch_synced 0\n"
          "# HELP flock_anycast_node_watch_failures_total Lists and watches of the Node object that failed (each "
          "retried with backoff; the last known node stays in force).\n"
          "# TYPE flock_anycast_node_watch_failures_total counter\n"
          "flock_anycast_node_watch_failures_total 0\n"
          "# HELP flock_anycast_pod_lookups_total The CNI plugin's pod annotation lookups on serve.sock: answered "
          "from the watch's cache, from serve's own GET, or with an error.\n"
          "# TYPE flock_anycast_pod_lookups_total counter\n"
          "flock_anycast_pod_lookups_total{result=\"apiserver\"} 0\n"
          "flock_anycast_pod_lookups_total{result=\"cache\"} 0\n"
          "flock_anycast_pod_lookups_total{result=\"error\"} 0\n"
          "# HELP flock_anycast_pod_condition_patches_total pods/status patches of the anycast.flock.io/announced "
          "readiness-gate condition, by outcome.\n"
          "# TYPE flock_anycast_pod_condition_patches_total counter\n"
          "flock_anycast_pod_condition_patches_total{result=\"failed\"} 0\n"
          "flock_anycast_pod_condition_patches_total{result=\"ok\"} 0\n"
          "# HELP flock_anycast_pod_events_total Events on pods (AnycastAnnounced, AnycastWithdrawn, AnycastRefused): "
          "sent, dropped by the rate limit, or refused by the apiserver.\n"
          "# TYPE flock_anycast_pod_events_total counter\n"
          "flock_anycast_pod_events_total{result=\"dropped\"} 0\n"
          "flock_anycast_pod_events_total{result=\"failed\"} 0\n"
          "flock_anycast_pod_events_total{result=\"sent\"} 0\n"
          "# HELP flock_anycast_bird_healthy 1 while the BIRD include is written and BIRD took the last configure; "
          "0 while announcements are stuck (see /readyz).\n"
          "# TYPE flock_anycast_bird_healthy gauge\n"
          "flock_anycast_bird_healthy 0\n"
          "# HELP flock_anycast_drain_state The node's drain: 0 announcing, 1 draining (GRACEFUL_SHUTDOWN), 2 drained "
          "(withdrawn from BGP, kernel routes kept).\n"
          "# TYPE flock_anycast_drain_state gauge\n"
          "flock_anycast_drain_state 0\n"
          "# HELP flock_anycast_drain_state_since_timestamp_seconds When flock_anycast_drain_state last changed "
          "(unix time; 0 until the first drain).\n"
          "# TYPE flock_anycast_drain_state_since_timestamp_seconds gauge\n"
          "flock_anycast_drain_state_since_timestamp_seconds 0\n"
          "# HELP flock_anycast_drain_reasons Drain reasons holding now, by cause: manual (flock-anycast drain), "
          "signal (--drain-on-exit), cordon, label, taint, annotation (the Node object).\n"
          "# TYPE flock_anycast_drain_reasons gauge\n"
          "flock_anycast_drain_reasons{cause=\"annotation\"} 0\n"
          "flock_anycast_drain_reasons{cause=\"cordon\"} 0\n"
          "flock_anycast_drain_reasons{cause=\"label\"} 0\n"
          "flock_anycast_drain_reasons{cause=\"manual\"} 0\n"
          "flock_anycast_drain_reasons{cause=\"signal\"} 0\n"
          "flock_anycast_drain_reasons{cause=\"taint\"} 0\n"
          "# HELP flock_anycast_prefix_routes Our host routes inside each policy prefix (the most specific one).\n"
          "# TYPE flock_anycast_prefix_routes gauge\n"
          "# HELP flock_anycast_prefix_hops Next hops of our host routes inside each policy prefix.\n"
          "# TYPE flock_anycast_prefix_hops gauge\n"
          "# HELP flock_anycast_prefix_announced Host routes inside each policy prefix handed to BIRD for "
          "announcement (0 while drained).\n"
          "# TYPE flock_anycast_prefix_announced gauge\n"
          "# HELP flock_anycast_records Attachment records in the state directory at the last pass.\n"
          "# TYPE flock_anycast_records gauge\n"
          "flock_anycast_records 0\n"
          "# HELP flock_anycast_eligible_pods Pods with a record that are known, Ready and not being deleted.\n"
          "# TYPE flock_anycast_eligible_pods gauge\n"
          "flock_anycast_eligible_pods 0\n"
          "# HELP flock_anycast_last_successful_pass_timestamp_seconds Unix time of the last reconcile pass "
          "that succeeded.\n"
          "# TYPE flock_anycast_last_successful_pass_timestamp_seconds gauge\n"
          "flock_anycast_last_successful_pass_timestamp_seconds 0\n");
}

TEST_CASE("record_pass counts by result, observes the duration and stamps only successes", "[unit]") {
    Metrics m;
    m.record_pass(0.0003, true, 1732450000);
    m.record_pass(0.02, false, 1732450099);
    m.record_bird_reload(true);
    m.record_bird_reload(false);
    m.record_bird_reload(false);
    m.routes(anycast::common::Family::v6).set(2);
    m.nexthops(anycast::common::Family::v4).set(3);
    CHECK(m.passes_success.value() == 1);
    CHECK(m.passes_failure.value() == 1);
    CHECK(m.pass_duration_seconds.count() == 2);
    CHECK(m.pass_duration_seconds.sum() == Approx(0.0203));
    CHECK(m.last_success_timestamp_seconds.value() == 1732450000);
    const std::string text = m.registry.render();
    CHECK_THAT(text, Catch::Contains("flock_anycast_reconcile_duration_seconds_bucket{le=\"0.00025\"} 0\n"
                                     "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
    CHECK_THAT(text, Catch::Contains("flock_anycast_reconcile_duration_seconds_bucket{le=\"0.025\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("flock_anycast_bird_reloads_total{result=\"failure\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("flock_anycast_routes_installed{family=\"ipv6\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("flock_anycast_nexthops{family=\"ipv4\"} 3\n"));
    CHECK_THAT(text, Catch::Contains("flock_anycast_last_successful_pass_timestamp_seconds 1732450000\n"));
}

TEST_CASE("readiness needs the first pass and a synced readiness source, and says which is missing", "[unit]") {
    Health health;
    CHECK_FALSE(health.ready());
    CHECK(health.not_ready_reason() == "first reconcile pass not done; readiness source has not synced yet");
    health.set_readiness_synced(true);
    CHECK(health.not_ready_reason() == "first reconcile pass not done");
    health.set_first_pass_done();
    CHECK(health.ready());
    health.set_readiness_synced(false, "apiserver unreachable: connection refused");
    CHECK(health.not_ready_reason() == "apiserver unreachable: connection refused");
}

TEST_CASE("metrics.listen parses IPv4, bracketed IPv6 and empty, and names what is wrong", "[unit]") {
    CHECK_FALSE(parse_listen_address("").has_value());
    const auto v4 = parse_listen_address("127.0.0.1:9641");
    REQUIRE(v4);
    CHECK(v4->host.to_string() == "127.0.0.1");
    CHECK(v4->port == 9641);
    const auto v6 = parse_listen_address("[::1]:0");
    REQUIRE(v6);
    CHECK(v6->host.to_string() == "::1");
    CHECK(v6->port == 0);
    const auto message = [](std::string_view text) {
        try {
            parse_listen_address(text);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("127.0.0.1") == "metrics.listen \"127.0.0.1\": expected host:port");
    CHECK(message("localhost:9641") == "metrics.listen \"localhost:9641\": host is not an IP address");
    CHECK(message("::1:9641") == "metrics.listen \"::1:9641\": an IPv6 address needs brackets, e.g. [::1]:9641");
    CHECK(message("127.0.0.1:65536") == "metrics.listen \"127.0.0.1:65536\": port is not a number from 0 to 65535");
    CHECK(message("127.0.0.1:") == "metrics.listen \"127.0.0.1:\": port is not a number from 0 to 65535");
    CHECK(message("[10.0.0.1]:80") == "metrics.listen \"[10.0.0.1]:80\": brackets are for IPv6 addresses");
}

TEST_CASE("parse_exposition reads back what the registry renders", "[unit]") {
    Metrics m;
    m.routes_ipv4.set(2);
    m.nexthops_ipv6.set(5);
    m.record_pass(0.002, true, 1732450000);
    const auto samples = parse_exposition(m.registry.render());
    CHECK(samples.at("flock_anycast_routes_installed{family=\"ipv4\"}") == 2);
    CHECK(samples.at("flock_anycast_nexthops{family=\"ipv6\"}") == 5);
    CHECK(samples.at("flock_anycast_reconcile_duration_seconds_bucket{le=\"+Inf\"}") == 1);
    CHECK(samples.at("flock_anycast_last_successful_pass_timestamp_seconds") == 1732450000);
    CHECK(samples.size() == 2 + 17 + 2 + 2 + 1 + 2 + 1 + 2 + 1 + 1 + 2 + 3 + 2 + 3 + 3 + 1 + 1 + 1 + 6);

    Registry odd;
    odd.gauge_family("demo_odd", "x", {"path"}).with({"a } b \"c\" {"}).set(-1.5);
    odd.gauge("demo_inf", "x").set(std::numeric_limits<double>::infinity());
    const auto parsed = parse_exposition(odd.render() + "demo_stamped 7 1732450000000\n");
    CHECK(parsed.at("demo_odd{path=\"a } b \\\"c\\\" {\"}") == -1.5);
    CHECK(std::isinf(parsed.at("demo_inf")));
    CHECK(parsed.at("demo_stamped") == 7);
    CHECK_THROWS_AS(parse_exposition("demo_no_value\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_exposition("demo{unclosed=\"x\" 1\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_exposition("demo one\n"), std::invalid_argument);
    CHECK(parse_exposition("demo_exp 2.5e-3\n").at("demo_exp") == 2.5e-3);
    CHECK(std::isnan(parse_exposition("demo_nan NaN\n").at("demo_nan")));
    CHECK_THROWS_AS(parse_exposition("demo true\n"), std::invalid_argument);  // JSON, not a number
    CHECK_THROWS_AS(parse_exposition("demo 0x10\n"), std::invalid_argument);
    // No metric name before the value or the labels (found by fuzzing, test/fuzz/).
    CHECK_THROWS_AS(parse_exposition(" 1\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_exposition("{a=\"b\"} 1\n"), std::invalid_argument);
}
