// BIRD from `flock-anycast bird-config` (issue 17 item 3): the node's BIRD runs the generated
// bird.conf and peers with a router BIRD over a veth, in namespaces of the test's own. The
// routes are written into table 241 with protocol 241 and listed in the include, as serve does.
// A node that goes silent while its link stays up (its BIRD frozen with SIGSTOP) is dropped by
// the router within a second with BFD, and only when the hold timer expires without it; an
// export limit holds back a flood of prefixes and keeps the session.
#include "common/config/node_config_loader.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/generated_bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

TEST_CASE("the generated bird.conf announces our prefix; with BFD a silent node is dropped within 1 s",
          "[bird][netns]") {
    GeneratedLab lab({.bfd = true, .hold_seconds = 9});
    INFO(lab.logs());
    lab.set_prefixes(1);
    REQUIRE(wait_until([&] { return lab.router_routes() == 1; }));
    REQUIRE(wait_until([&] { return lab.node_bird->birdc("show bfd sessions").find("Up") != std::string::npos; }));
    CHECK(lab.router_bird->birdc("show bfd sessions").find("Up") != std::string::npos);

    const auto took = lab.time_to_withdrawal(std::chrono::seconds(12));
    WARN("BFD: the router withdrew the frozen node's prefix after " << took.count() << " ms (hold time 9 s)");
    CHECK(lab.router_routes() == 0);
    CHECK(took < std::chrono::seconds(1));
}

TEST_CASE("without BFD the router drops a silent node only when the hold timer expires", "[bird][netns]") {
    GeneratedLab lab({.bfd = false, .hold_seconds = 3});
    INFO(lab.logs());
    lab.set_prefixes(1);
    REQUIRE(wait_until([&] { return lab.router_routes() == 1; }));

    const auto took = lab.time_to_withdrawal(std::chrono::seconds(15));
    WARN("no BFD: the router withdrew the frozen node's prefix after " << took.count() << " ms (hold time 3 s)");
    CHECK(lab.router_routes() == 0);
    CHECK(took > std::chrono::seconds(1));   // what BFD saves
    CHECK(took < std::chrono::seconds(12));  // measured here: 5.8 s (BIRD's timers tick in whole seconds)
}

TEST_CASE("an export limit holds back a flood of prefixes and keeps the session up", "[bird][netns]") {
    GeneratedLab lab({.export_limit = 5});
    INFO(lab.logs());
    lab.set_prefixes(40);
    REQUIRE(wait_until([&] { return lab.router_routes() == 5; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(lab.router_routes() == 5);
    CHECK(lab.established());
    CHECK(lab.node_bird->birdc("show protocols all bgp_router").find("limit") != std::string::npos);
}

TEST_CASE("the router receives the operator's per-prefix attributes, the most specific entry's", "[bird][netns]") {
    GeneratedLab lab({.prefixes = {{"10.255.53.0/24", json::object{{"communities", json::array{"65000:53"}},
                                                                   {"largeCommunities", json::array{"65000:1:2"}},
                                                                   {"med", 10},
                                                                   {"prepend", 2}}},
                                   {"10.255.0.0/16", json::object{{"communities", json::array{"65000:99"}}}}}});
    INFO(lab.logs());
    lab.set_prefixes(1);
    REQUIRE(wait_until([&] { return lab.router_routes() == 1; }));
    const std::string route = lab.router_bird->birdc("show route 10.255.53.1/32 all");
    INFO(route);
    CHECK(route.find("BGP.community: (65000,53)") != std::string::npos);
    CHECK(route.find("(65000,99)") == std::string::npos);  // one entry applies: the most specific
    CHECK(route.find("BGP.large_community: (65000, 1, 2)") != std::string::npos);
    CHECK(route.find("BGP.med: 10") != std::string::npos);
    CHECK(route.find("BGP.as_path: 65001 65001 65001") != std::string::npos);  // prepend 2 + our own
    // localPreference travels on iBGP sessions only; this one is eBGP (unit test covers its text).
}

TEST_CASE("serve writes the generated bird.conf and has BIRD re-read it when SIGHUP changes the bgp section",
          "[bird][netns][serve]") {
    GeneratedLab lab({.hold_seconds = 9});
    INFO(lab.logs());
    json::object config{
        {"stateDir", lab.dir.file("state")},
        {"readiness", json::object{{"source", "always"}}},
        {"metrics", json::object{{"listen", ""}}},
        {"bird", json::object{{"fragment", lab.dir.file("flock-anycast.conf")},
                              {"socket", lab.node_bird->socket()},
                              {"config", lab.node_bird->config_path()}}},
        {"bgp", json::object{
                    {"asn", 65001},
                    {"routerId", "10.0.0.2"},
                    {"peers", json::array{json::object{
                                  {"name", "router"}, {"address", "10.0.0.1"}, {"asn", 65000}, {"holdSeconds", 9}}}}}}};
    const std::string path = lab.dir.file("serve.json");
    std::ofstream(path) << json::serialize(config);
    BackgroundProcess serve({"ip", "netns", "exec", lab.node.name(), flock_binary(), "serve", "--config", path},
                            lab.dir.file("serve.log"));
    INFO("serve log:\n" << read_text_file(lab.dir.file("serve.log")));
    // The same text as bird-config's (serve names its own config file in the header).
    REQUIRE(wait_until([&] { return read_text_file(lab.node_bird->config_path()).find(path) != std::string::npos; }));
    CHECK(read_text_file(lab.node_bird->config_path()).find("hold time 9;") != std::string::npos);

    config["bgp"].as_object()["peers"].as_array()[0].as_object()["holdSeconds"] = 6;
    std::ofstream(path) << json::serialize(config);
    ::kill(serve.pid(), SIGHUP);
    REQUIRE(wait_until(
        [&] { return read_text_file(lab.node_bird->config_path()).find("hold time 6;") != std::string::npos; }));
    // BIRD re-read it: the session's configured hold time is the new one.
    CHECK(wait_until([&] {
        return lab.node_bird->birdc("show protocols all bgp_router").find("Hold timer") != std::string::npos &&
               lab.node_bird->birdc("show protocols all bgp_router").find("/6") != std::string::npos;
    }));
    CHECK(lab.established());
}
