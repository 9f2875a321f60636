// serve in resilient mode (routes.ecmp, the default; docs/ecmp.md) against the kernel's own
// nexthop objects: adoption without writes, group replaces that leave the route alone, the
// ids of others' objects never taken, repairs through the monitor, cleanup.
#include "common/netlink/monitor.hpp"
#include "test/support/process.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>
#include <poll.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

using namespace anycast;
using namespace anycast::test;
namespace nl = anycast::common::netlink;

namespace {

// Every route and nexthop notification of the namespace from now on, as text.
class KernelEvents {
public:
    std::vector<std::string> drain() {
        for (;;) {
            pollfd fd{monitor_.fd(), POLLIN, 0};
            if (::poll(&fd, 1, 0) <= 0) break;
            for (const auto& event : monitor_.read_events()) {
                if (const auto* route = std::get_if<nl::RouteEvent>(&event)) {
                    seen_.push_back(
                        std::string(route->kind == nl::RouteEvent::Kind::added ? "route added " : "route deleted ") +
                        route->route.destination.to_string());
                } else if (const auto* nexthop = std::get_if<nl::NexthopEvent>(&event)) {
                    seen_.push_back(std::string(nexthop->kind == nl::NexthopEvent::Kind::added ? "nexthop added "
                                                                                               : "nexthop deleted ") +
                                    std::to_string(nexthop->nexthop.id) + (nexthop->nexthop.group ? " group" : ""));
                }
            }
        }
        return seen_;
    }

private:
    nl::Monitor monitor_ = nl::Monitor::open();
    std::vector<std::string> seen_;
};

std::size_t count_prefix(const std::vector<std::string>& seen, const std::string& prefix) {
    return static_cast<std::size_t>(
        std::count_if(seen.begin(), seen.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

constexpr const char* k_first_id = "4043309056";  // 241 << 24: where our ids start

}  // namespace

TEST_CASE(
    "resilient mode: a restart adopts our nexthop objects and writes nothing; nor does a pass with nothing changed",
    "[netns][serve][ecmp]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.start_serving(2);  // stopped (SIGTERM) at once: routes and objects stay
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    const std::string objects = sh("ip nexthop show proto 241");
    REQUIRE(std::count(objects.begin(), objects.end(), '\n') == 6);  // 2 gateways and a group per family

    KernelEvents events;
    const auto passes = [&] { return count_of(lab.log(), "msg=pass "); };
    const std::size_t before = passes();  // the first serve's
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_log("msg=pass ", before + 1));
    // A record written again as it was, then a SIGHUP with the same config: a pass each (one
    // at a time, so they are not coalesced) that diffs against the kernel, and no writes.
    lab.write_record(a);
    REQUIRE(lab.wait_log("msg=pass ", before + 2));
    ::kill(serve->pid(), SIGHUP);
    REQUIRE(lab.wait_log("msg=pass ", before + 3));
    const auto seen = events.drain();
    INFO("kernel events: " << seen.size());
    CHECK(seen.empty());
    CHECK(sh("ip nexthop show proto 241") == objects);
    CHECK(ServeLab::routed_via({&a, &b}));
}

TEST_CASE("resilient mode: pods leaving and coming back replace the group under the route, never the route",
          "[netns][serve][ecmp]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(3);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    const auto& c = lab.pods[2];
    const std::string route_before = ServeLab::v4_route().substr(0, ServeLab::v4_route().find(" via"));

    KernelEvents events;
    lab.set_pods({ServeLab::ready(a), ServeLab::deleting(b), ServeLab::ready(c)});
    REQUIRE(lab.wait_routed_via({&a, &c}));
    lab.set_pods({ServeLab::ready(a), ServeLab::deleting(b), ServeLab::not_ready(c)});
    REQUIRE(lab.wait_routed_via({&a}));
    lab.set_pods({ServeLab::ready(a), ServeLab::ready(b), ServeLab::ready(c)});
    REQUIRE(lab.wait_routed_via({&a, &b, &c}));
    const auto seen = events.drain();
    INFO(lab.log());
    CHECK(count_prefix(seen, "route deleted") == 0);
    // The route names the same group throughout (its notifications are the kernel's
    // nexthop_compat_mode reports of the group's new members).
    CHECK(ServeLab::v4_route().substr(0, ServeLab::v4_route().find(" via")) == route_before);
    CHECK(ServeLab::v4_route().find("nhid") != std::string::npos);
}

TEST_CASE(
    "resilient mode: others' nexthop ids are never taken or touched; ours deleted by hand come back; cleanup "
    "removes ours only",
    "[netns][serve][ecmp]") {
    PrivateNetns netns;
    ServeLab lab;
    auto& a = lab.add_pod(1);
    // Someone else's objects, one on the id we would take first.
    sh(std::string("ip nexthop add id ") + k_first_id + " via 10.0.0.11 dev " + a.host_end + " onlink proto static");
    sh("ip nexthop add id 7 via 10.0.0.11 dev " + a.host_end + " onlink");
    lab.write_record(a);
    lab.set_pods({ServeLab::ready(a)});
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_routed_via({&a}));
    CHECK(ServeLab::v4_route().find(std::string("nhid ") + k_first_id) == std::string::npos);
    CHECK(sh(std::string("ip nexthop show id ") + k_first_id).find("proto static") != std::string::npos);

    // Our group deleted by hand takes the route with it: the monitor reports it, serve repairs.
    const std::string route = ServeLab::v4_route();
    const std::string group =
        route.substr(route.find("nhid ") + 5, route.find(' ', route.find("nhid ") + 5) - route.find("nhid ") - 5);
    sh("ip nexthop del id " + group);
    REQUIRE(wait_until(
        [&] { return ServeLab::routed_via({&a}) && ServeLab::v4_route().find("nhid") != std::string::npos; }));

    serve.reset();  // SIGTERM: routes and objects stay
    const auto cleanup = run_process({flock_binary(), "cleanup", "--config", lab.config_path()});
    INFO(cleanup.err);
    CHECK(cleanup.exit_code == 0);
    CHECK(sh("ip nexthop show proto 241").empty());
    CHECK(ServeLab::routes().empty());
    CHECK(sh("ip nexthop show id 7").find("via 10.0.0.11") != std::string::npos);
    CHECK(sh(std::string("ip nexthop show id ") + k_first_id).find("proto static") != std::string::npos);
}

TEST_CASE("SIGHUP from resilient to multipath and back rewrites the routes in place, never withdrawing them",
          "[netns][serve][ecmp]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    KernelEvents events;
    for (const char* mode : {"multipath", "resilient"}) {
        lab.config["routes"].as_object()["ecmp"] = mode;
        lab.write_config();
        ::kill(serve->pid(), SIGHUP);
        const bool resilient = std::string(mode) == "resilient";
        REQUIRE(wait_until([&] {
            return (ServeLab::v4_route().find("nhid") != std::string::npos) == resilient &&
                   (ServeLab::v6_route().find("nhid") != std::string::npos) == resilient &&
                   sh("ip nexthop show proto 241").empty() == !resilient;
        }));
        CHECK(ServeLab::routed_via({&a, &b}));
    }
    INFO(lab.log());
    CHECK(count_prefix(events.drain(), "route deleted") == 0);
}

TEST_CASE("serve warns at start when net.ipv4.nexthop_compat_mode is 0 (BIRD would see no next hops)",
          "[netns][serve][ecmp]") {
    PrivateNetns netns;
    sh("sysctl -qw net.ipv4.nexthop_compat_mode=0");
    ServeLab lab;
    auto serve = lab.start_serve();
    CHECK(lab.wait_log("net.ipv4.nexthop_compat_mode is 0"));
    serve.reset();

    // Not in multipath mode, which uses no nexthop objects.
    lab.config["routes"].as_object()["ecmp"] = "multipath";
    lab.write_config();
    const std::size_t before = lab.log().size();
    const std::size_t passes = count_of(lab.log(), "msg=pass ");
    serve = lab.start_serve();
    REQUIRE(lab.wait_log("msg=pass ", passes + 1));  // the warning would come before it
    CHECK(lab.log().substr(before).find("nexthop_compat_mode") == std::string::npos);
}
