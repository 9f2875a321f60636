// The netlink monitor against a real kernel: route and link events, overruns, asio driving.
#include "common/netlink/monitor.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/route.hpp"
#include "test/support/netlink_fixture.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <vector>

using namespace anycast::test;
namespace nl = anycast::common::netlink;

namespace {

// Reads events until `wanted` matches one (or a generous bound passes, so a missing event
// fails the test instead of hanging it). Returns everything read.
std::vector<nl::Event> read_until(nl::Monitor& monitor, const std::function<bool(const nl::Event&)>& wanted) {
    std::vector<nl::Event> all;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
        pollfd fd{monitor.fd(), POLLIN, 0};
        ::poll(&fd, 1, 200);
        for (auto& event : monitor.read_events()) {
            const bool match = wanted(event);
            all.push_back(std::move(event));
            if (match) return all;
        }
    }
    return all;
}

const nl::RouteEvent* as_route(const nl::Event& event) { return std::get_if<nl::RouteEvent>(&event); }
const nl::LinkEvent* as_link(const nl::Event& event) { return std::get_if<nl::LinkEvent>(&event); }

struct OneVeth {
    OneVeth() {
        make_veth(name, name.substr(0, 14) + "p");
        sh("ip addr add 10.99.1.1/24 dev " + name);
        sh("ip -6 addr add fd00:99:1::1/64 dev " + name + " nodad");
        index = ifindex(socket, name);
    }
    std::string name = unique_name("vm");
    nl::Socket socket = nl::Socket::open();
    int index = 0;
};

}  // namespace

TEST_CASE("the monitor sees our route added and then deleted by someone else, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    OneVeth lab;
    auto monitor = nl::Monitor::open();
    for (const auto* gateway : {"10.99.1.2", "fd00:99:1::2"}) {
        DYNAMIC_SECTION("via " << gateway) {
            const auto gw = ip(gateway);
            const nl::Route route{anycast::common::Prefix::host(ip(gw.is_v4() ? "10.255.0.1" : "fd00:255::1")),
                                  {nl::NextHop{gw, lab.index}},
                                  241,
                                  241};
            nl::replace_route(lab.socket, route);
            auto added = read_until(monitor, [&](const nl::Event& e) {
                return as_route(e) && as_route(e)->kind == nl::RouteEvent::Kind::added && as_route(e)->route == route;
            });
            CHECK((!added.empty() && as_route(added.back()) && as_route(added.back())->route == route));

            sh("ip route del " + route.destination.to_string() + " table 241");
            auto deleted = read_until(monitor, [&](const nl::Event& e) {
                return as_route(e) && as_route(e)->kind == nl::RouteEvent::Kind::deleted;
            });
            REQUIRE(!deleted.empty());
            const auto* event = as_route(deleted.back());
            REQUIRE(event);
            CHECK(event->kind == nl::RouteEvent::Kind::deleted);
            CHECK(event->route == route);  // with protocol, table, prefix and hops
        }
    }
}

TEST_CASE("the monitor sees our rule added and deleted by someone else, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    auto monitor = nl::Monitor::open();
    for (const auto family : {anycast::common::Family::v4, anycast::common::Family::v6}) {
        DYNAMIC_SECTION("IPv" << anycast::common::family_number(family)) {
            const nl::Rule ours{family, 1000, 100000};
            const auto is_rule = [&](const nl::Event& e, nl::RuleEvent::Kind kind) {
                const auto* rule = std::get_if<nl::RuleEvent>(&e);
                return rule != nullptr && rule->kind == kind && rule->rule == ours;
            };
            nl::ensure_rule(socket, family, 1000, 100000);
            const auto added =
                read_until(monitor, [&](const nl::Event& e) { return is_rule(e, nl::RuleEvent::Kind::added); });
            CHECK((!added.empty() && is_rule(added.back(), nl::RuleEvent::Kind::added)));
            sh(std::string("ip ") + (family == anycast::common::Family::v4 ? "-4" : "-6") +
               " rule del priority 1000 lookup 100000");
            const auto deleted =
                read_until(monitor, [&](const nl::Event& e) { return is_rule(e, nl::RuleEvent::Kind::deleted); });
            CHECK((!deleted.empty() && is_rule(deleted.back(), nl::RuleEvent::Kind::deleted)));
        }
    }
}

TEST_CASE("the monitor sees a veth deleted and re-created, and a rename", "[netns]") {
    PrivateNetns netns;
    const std::string name = unique_name("vr");
    make_veth(name, name.substr(0, 14) + "p");
    auto socket = nl::Socket::open();
    const int first_index = ifindex(socket, name);
    auto monitor = nl::Monitor::open();

    sh("ip link del " + name);
    auto deleted = read_until(monitor, [&](const nl::Event& e) {
        return as_link(e) && as_link(e)->kind == nl::LinkEvent::Kind::deleted && as_link(e)->link.name == name;
    });
    REQUIRE(!deleted.empty());
    REQUIRE(as_link(deleted.back()));
    CHECK(as_link(deleted.back())->link.index == first_index);

    make_veth(name, name.substr(0, 14) + "p");
    const int second_index = ifindex(socket, name);
    auto added = read_until(monitor, [&](const nl::Event& e) {
        return as_link(e) && as_link(e)->kind == nl::LinkEvent::Kind::added && as_link(e)->link.name == name;
    });
    REQUIRE(!added.empty());
    REQUIRE(as_link(added.back()));
    CHECK(as_link(added.back())->link.index == second_index);

    const std::string new_name = unique_name("vn");
    sh("ip link set " + name + " down && ip link set " + name + " name " + new_name);
    auto renamed = read_until(
        monitor, [&](const nl::Event& e) { return as_link(e) && as_link(e)->kind == nl::LinkEvent::Kind::renamed; });
    REQUIRE(!renamed.empty());
    const auto* event = as_link(renamed.back());
    REQUIRE(event);
    CHECK(event->link.name == new_name);
    CHECK(event->old_name == name);
    CHECK(event->link.index == second_index);
}

TEST_CASE("a monitor overrun yields one resync-needed event and the monitor keeps working", "[netns]") {
    PrivateNetns netns;
    OneVeth lab;
    auto monitor = nl::Monitor::open();
    // The smallest receive buffer the kernel allows, then far more notifications than fit.
    const int tiny = 1;
    REQUIRE(setsockopt(monitor.fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)) == 0);
    std::vector<nl::RouteChange> changes;
    for (int i = 0; i < 200; ++i) {
        const auto destination = anycast::common::Prefix::host(ip("10.250.0." + std::to_string(i)));
        changes.push_back({nl::RouteChange::Kind::replace,
                           nl::Route{destination, {nl::NextHop{ip("10.99.1.2"), lab.index}}, 241, 241}});
    }
    const auto results = nl::apply_route_changes(lab.socket, changes);
    REQUIRE(std::count(results.begin(), results.end(), 0) == 200);

    const auto events = monitor.read_events();
    CHECK(std::count_if(events.begin(), events.end(),
                        [](const nl::Event& e) { return std::holds_alternative<nl::ResyncNeeded>(e); }) == 1);

    // Keeps working: with room again (the veth's own IPv6 notifications can overrun a
    // one-notification buffer at any time), the next notification is read as usual.
    const int roomy = 1 << 20;
    REQUIRE(setsockopt(monitor.fd(), SOL_SOCKET, SO_RCVBUF, &roomy, sizeof(roomy)) == 0);
    sh("ip route del 10.250.0.7/32 table 241");
    auto later = read_until(monitor, [](const nl::Event& e) {
        return as_route(e) && as_route(e)->kind == nl::RouteEvent::Kind::deleted &&
               as_route(e)->route.destination.to_string() == "10.250.0.7/32";
    });
    CHECK((!later.empty() && as_route(later.back()) && as_route(later.back())->kind == nl::RouteEvent::Kind::deleted));
}

TEST_CASE("the monitor can be driven by an asio stream_descriptor", "[netns]") {
    PrivateNetns netns;
    OneVeth lab;
    auto monitor = nl::Monitor::open();
    boost::asio::io_context io;
    boost::asio::posix::stream_descriptor descriptor(io, monitor.fd());
    std::vector<nl::Event> seen;
    std::function<void(boost::system::error_code)> on_ready = [&](boost::system::error_code ec) {
        REQUIRE_FALSE(ec);
        for (auto& event : monitor.read_events()) seen.push_back(std::move(event));
        const bool got = std::any_of(seen.begin(), seen.end(), [](const nl::Event& e) {
            return as_route(e) && as_route(e)->kind == nl::RouteEvent::Kind::deleted;
        });
        if (!got) descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read, on_ready);
    };
    descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read, on_ready);
    sh("ip route add 10.255.0.5/32 via 10.99.1.2 table 241 proto 241 && ip route del 10.255.0.5/32 table 241");
    io.run_for(std::chrono::seconds(10));
    descriptor.release();  // the monitor owns the fd
    CHECK(std::any_of(seen.begin(), seen.end(), [](const nl::Event& e) {
        return as_route(e) && as_route(e)->kind == nl::RouteEvent::Kind::deleted &&
               as_route(e)->route.destination.to_string() == "10.255.0.5/32" && as_route(e)->route.protocol == 241;
    }));
}
