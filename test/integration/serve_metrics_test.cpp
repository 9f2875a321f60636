// serve's metrics endpoint, scraped while serve runs: the figures follow the routes.
#include "reconciler/metrics_scrape.hpp"
#include "test/integration/serve_lab.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

using namespace anycast;
using namespace anycast::test;

namespace {

constexpr const char* k_listen = "127.0.0.1:19641";  // loopback of the test's own namespace

// One series from a scrape, or -1 while the endpoint does not answer yet.
double scraped(const std::string& series) {
    try {
        const auto values = reconciler::parse_exposition(
            reconciler::fetch_metrics(k_listen, std::chrono::milliseconds(1000)));
        const auto found = values.find(series);
        return found == values.end() ? -1 : found->second;
    } catch (const std::exception&) {
        return -1;
    }
}

bool wait_scraped(const std::string& series, double expected) {
    return wait_until([&] { return scraped(series) == expected; });
}

}  // namespace

TEST_CASE("serve's metrics move as its routes change", "[netns][serve][metrics]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.config["metrics"] = boost::json::object{{"listen", k_listen}};
    lab.write_config();
    lab.add_ready_pods(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    auto serve = lab.start_serve();
    INFO(lab.log());

    REQUIRE(lab.wait_routed_via({&a, &b}));
    CHECK(wait_scraped("flock_anycast_routes_installed{family=\"ipv4\"}", 1));
    CHECK(wait_scraped("flock_anycast_routes_installed{family=\"ipv6\"}", 1));
    CHECK(wait_scraped("flock_anycast_nexthops{family=\"ipv4\"}", 2));
    CHECK(wait_scraped("flock_anycast_records", 2));
    CHECK(wait_scraped("flock_anycast_eligible_pods", 2));
    CHECK(scraped("flock_anycast_reconcile_passes_total{result=\"success\"}") >= 1);
    CHECK(scraped("flock_anycast_last_successful_pass_timestamp_seconds") > 0);
    const double passes = scraped("flock_anycast_reconcile_duration_seconds_count");
    CHECK(passes >= 1);

    lab.set_pods({ServeLab::ready(a), ServeLab::deleting(b)});
    REQUIRE(lab.wait_routed_via({&a}));
    CHECK(wait_scraped("flock_anycast_nexthops{family=\"ipv4\"}", 1));
    CHECK(wait_scraped("flock_anycast_eligible_pods", 1));
    CHECK(scraped("flock_anycast_reconcile_duration_seconds_count") > passes);

    lab.set_pods({ServeLab::not_ready(a), ServeLab::deleting(b)});
    REQUIRE(wait_until([&] { return lab.routes().empty(); }));
    CHECK(wait_scraped("flock_anycast_routes_installed{family=\"ipv4\"}", 0));
    CHECK(wait_scraped("flock_anycast_routes_installed{family=\"ipv6\"}", 0));
    CHECK(wait_scraped("flock_anycast_nexthops{family=\"ipv6\"}", 0));
    CHECK(wait_scraped("flock_anycast_netlink_errors_total", 0));
}
