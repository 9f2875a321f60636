// serve's metrics endpoint, scraped while serve runs: the figures follow the routes and BIRD's
// answers; `status` shows them while serve runs and the kernel's figures when it does not.
#include "test/support/serve_lab.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>

using namespace anycast;
using namespace anycast::test;

namespace {

constexpr const char* k_listen = "127.0.0.1:19641";  // loopback of the test's own namespace

double scraped(const std::string& series) { return test::scraped(k_listen, series); }
bool wait_scraped(const std::string& series, double expected) { return test::wait_scraped(k_listen, series, expected); }

// One row of status's figures table; `width`: the longest name in that table.
std::string row(const std::string& name, const std::string& value, std::size_t width) {
    return "  " + name + std::string(width - name.size() + 2, ' ') + value + "\n";
}
constexpr std::size_t k_serve_width = 20;   // "last successful pass"
constexpr std::size_t k_kernel_width = 16;  // "routes installed"

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
    // BIRD disabled, readiness from a file: these exist and stay at zero.
    CHECK(scraped("flock_anycast_bird_reloads_total{result=\"success\"}") == 0);
    CHECK(scraped("flock_anycast_kube_relists_total") == 0);

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
    INFO(lab.log());
    CHECK(wait_scraped("flock_anycast_netlink_errors_total", 0));
}

TEST_CASE("serve counts BIRD reloads by BIRD's answer, and the counts survive a SIGHUP that replaces the publisher",
          "[netns][serve][metrics][bird]") {
    PrivateNetns netns;
    ServeLab lab;
    NamedNetns bird_ns("bd");  // BIRD's own namespace: only its control socket matters here
    const std::string fragment = lab.dir.file("flock-anycast.conf");
    std::ofstream(fragment) << empty_bird_sets();
    const std::string good_config = "log \"" + lab.dir.file("bird.log") + "\" all;\nrouter id 192.0.2.1;\ninclude \"" +
                                    fragment + "\";\nprotocol device {}\n";
    BirdDaemon bird(bird_ns.name(), lab.dir.path(), "bird", good_config);
    bird.start();

    lab.config["metrics"] = boost::json::object{{"listen", k_listen}};
    lab.config["bird"] = boost::json::object{{"enabled", true}, {"fragment", fragment}, {"socket", bird.socket()}};
    lab.write_config();
    lab.add_ready_pods(1);
    auto serve = lab.start_serve();
    INFO(lab.log());

    // The first publish always reloads; BIRD takes the include.
    REQUIRE(lab.wait_routed_via({&lab.pods[0]}));
    REQUIRE(wait_scraped("flock_anycast_bird_reloads_total{result=\"success\"}", 1));
    CHECK(scraped("flock_anycast_bird_reloads_total{result=\"failure\"}") == 0);

    // BIRD's config is broken now: the withdrawal rewrites the include and BIRD refuses to reconfigure.
    std::ofstream(bird.config_path()) << good_config << "this is not a bird statement;\n";
    lab.set_pods({ServeLab::not_ready(lab.pods[0])});
    REQUIRE(wait_scraped("flock_anycast_bird_reloads_total{result=\"failure\"}", 1));
    CHECK(scraped("flock_anycast_bird_reloads_total{result=\"success\"}") == 1);
    CHECK(lab.log().find("bird reload rejected") != std::string::npos);

    // SIGHUP with another socket path (to the same BIRD) makes a new publisher, whose first
    // publish reloads: the counters go on from where they were.
    std::ofstream(bird.config_path()) << good_config;
    const std::string other_socket = lab.dir.file("other.ctl");
    sh("ln -s " + bird.socket() + " " + other_socket);
    lab.config["bird"].as_object()["socket"] = other_socket;
    lab.write_config();
    REQUIRE(::kill(serve->pid(), SIGHUP) == 0);
    REQUIRE(wait_scraped("flock_anycast_bird_reloads_total{result=\"success\"}", 2));
    CHECK(scraped("flock_anycast_bird_reloads_total{result=\"failure\"}") == 1);
}

TEST_CASE("status shows the running serve's figures from its endpoint", "[netns][serve][metrics]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.config["metrics"] = boost::json::object{{"listen", k_listen}};
    lab.write_config();
    lab.add_ready_pods(2);
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_routed_via({&lab.pods[0], &lab.pods[1]}));
    REQUIRE(wait_scraped("flock_anycast_eligible_pods", 2));

    const auto status = run_process({flock_binary(), "status", "--config", lab.config_path()});
    INFO(status.out << status.err);
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("figures from the running serve (http://127.0.0.1:19641/metrics):\n") != std::string::npos);
    CHECK(status.out.find(row("readiness", "ready", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("routes installed", "ipv4 1, ipv6 1", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("next hops", "ipv4 2, ipv6 2", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("records", "2", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("eligible pods", "2", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("bird reloads", "0 ok, 0 failed", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("kube relists", "0", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(row("node watch", "off or not listed yet, 0 failures", k_serve_width)) != std::string::npos);
    CHECK(status.out.find(" s ago\n") != std::string::npos);
    CHECK(status.out.find("in sync\n") != std::string::npos);
}

TEST_CASE("status without a running serve says so and counts from the kernel and the records",
          "[netns][serve][metrics]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.config["metrics"] = boost::json::object{{"listen", k_listen}};
    lab.write_config();
    lab.add_ready_pods(2);

    const auto status = run_process({flock_binary(), "status", "--config", lab.config_path()});
    INFO(status.out << status.err);
    CHECK(status.exit_code == 1);  // nothing installed: out of sync
    CHECK(status.out.find("no running serve answered (scrape: connect to http://127.0.0.1:19641/metrics: "
                          "Connection refused); figures from the kernel and the records:\n") != std::string::npos);
    CHECK(status.out.find(row("routes installed", "ipv4 0, ipv6 0", k_kernel_width)) != std::string::npos);
    CHECK(status.out.find(row("records", "2", k_kernel_width)) != std::string::npos);
    CHECK(status.out.find(row("eligible pods", "2", k_kernel_width)) != std::string::npos);
    CHECK(status.out.find("bird reloads") == std::string::npos);

    // With the endpoint disabled it says that instead.
    lab.config["metrics"] = boost::json::object{{"listen", ""}};
    lab.write_config();
    const auto disabled = run_process({flock_binary(), "status", "--config", lab.config_path()});
    CHECK(disabled.out.find("serve's metrics endpoint is disabled (metrics.listen is empty); figures from the kernel "
                            "and the records:\n") != std::string::npos);
}

TEST_CASE("a SIGHUP whose config cannot start changes nothing, is counted, and the next SIGHUP applies a fixed one",
          "[netns][serve][metrics]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.config["metrics"] = boost::json::object{{"listen", k_listen}};
    lab.write_config();
    auto serve = lab.start_serving(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];

    // A readiness file in a directory that does not exist: the file source cannot start.
    lab.config["readiness"] = boost::json::object{{"source", "file"}, {"file", lab.dir.file("missing-dir/pods.json")}};
    lab.write_config();
    ::kill(serve->pid(), SIGHUP);
    if (!wait_scraped("flock_anycast_config_reloads_total{result=\"failure\"}", 1)) FAIL(lab.log());
    CHECK(scraped("flock_anycast_config_reloads_total{result=\"success\"}") == 0);
    CHECK(lab.wait_log("SIGHUP: new config not applied; the running one stays"));
    // The old source still runs: a readiness change in the old file still takes effect.
    lab.set_pods({ServeLab::ready(a), ServeLab::not_ready(b)});
    CHECK(lab.wait_routed_via({&a}));

    // The directory now exists with both pods ready: the same SIGHUP goes through.
    std::filesystem::create_directories(lab.dir.file("missing-dir"));
    std::ofstream(lab.dir.file("missing-dir/pods.json"), std::ios::trunc)
        << R"([{"namespace":"dns","name":")" << a.name << R"(","ready":true},{"namespace":"dns","name":")" << b.name
        << R"(","ready":true}])";
    ::kill(serve->pid(), SIGHUP);
    CHECK(wait_scraped("flock_anycast_config_reloads_total{result=\"success\"}", 1));
    CHECK(lab.wait_routed_via({&a, &b}));
    CHECK(scraped("flock_anycast_config_reloads_total{result=\"failure\"}") == 1);
}
