// Nexthop objects against a real kernel: one batch creates gateways, a resilient group and a
// route naming it, in order; the dump reads them back as ours (and others' ids apart); a
// replace keeps the group under the route; removal in reverse order; the monitor reports it.
#include "common/netlink/change_batch.hpp"
#include "common/netlink/monitor.hpp"
#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "test/support/netlink_fixture.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>
#include <poll.h>

#include <chrono>
#include <optional>

using namespace anycast::test;
namespace nl = anycast::common::netlink;

namespace {

constexpr int k_protocol = 241;

nl::Nexthop gateway(std::uint32_t id, const char* via, int ifindex) {
    return nl::Nexthop{id, k_protocol, nl::NextHop{ip(via), ifindex}, std::nullopt};
}

nl::Nexthop group(std::uint32_t id, std::vector<std::uint32_t> members) {
    return nl::Nexthop{id, k_protocol, std::nullopt, nl::NexthopGroup{std::move(members), true, 64, 30}};
}

using Kind = nl::NexthopChange::Kind;

}  // namespace

TEST_CASE("nexthops, a resilient group and a route through it: one batch in, dumped back, replaced, removed",
          "[netns]") {
    PrivateNetns netns;
    const std::string veth = unique_name("nh");
    make_veth(veth, veth.substr(0, 14) + "p");
    auto socket = nl::Socket::open();
    const int index = ifindex(socket, veth);
    sh("ip nexthop add id 99 via 10.99.1.9 dev " + veth + " onlink");  // someone else's

    auto monitor = nl::Monitor::open();
    const auto a = gateway(10, "10.99.1.2", index);
    const auto b = gateway(11, "10.99.1.3", index);
    nl::Route route{prefix("10.255.0.1/32"), {}, k_protocol, 241};
    route.nexthop_id = 20;
    const nl::KernelChanges create{{{Kind::create, a}, {Kind::create, b}, {Kind::create, group(20, {10, 11})}},
                                   {{nl::RouteChange::Kind::replace, route}},
                                   {}};
    const auto created = nl::apply_kernel_changes(socket, create);
    CHECK(created.nexthops_first == std::vector<int>{0, 0, 0});
    CHECK(created.routes == std::vector<int>{0});

    const auto table = nl::dump_nexthops(socket, k_protocol);
    CHECK(table.ours == std::vector<nl::Nexthop>{a, b, group(20, {10, 11})});
    CHECK(table.others == std::vector<std::uint32_t>{99});
    const auto routes = nl::dump_routes(socket, 241, k_protocol);
    REQUIRE(routes.size() == 1);
    CHECK(routes[0].nexthop_id == 20);
    CHECK(routes[0].hops.size() == 2);  // nexthop_compat_mode's expansion
    CHECK(sh("ip nexthop show id 20").find("type resilient buckets 64 idle_timer 30") != std::string::npos);

    // A create never takes an id someone holds.
    const auto taken = nl::apply_kernel_changes(socket, {{{Kind::create, gateway(99, "10.99.1.4", index)}}, {}, {}});
    CHECK(taken.nexthops_first == std::vector<int>{EEXIST});

    // Shrink: the group replaced, the member removed after it; the route still names it.
    nl::apply_kernel_changes(socket, {{{Kind::replace, group(20, {11})}}, {}, {{Kind::remove, a}}});
    CHECK(nl::dump_nexthops(socket, k_protocol).ours == std::vector<nl::Nexthop>{b, group(20, {11})});
    CHECK(nl::dump_routes(socket, 241, k_protocol).at(0).nexthop_id == 20);

    // The monitor saw our objects come and go.
    bool saw_group = false, saw_removal = false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!(saw_group && saw_removal) && std::chrono::steady_clock::now() < give_up) {
        pollfd fd{monitor.fd(), POLLIN, 0};
        ::poll(&fd, 1, 200);
        for (const auto& event : monitor.read_events()) {
            const auto* nexthop = std::get_if<nl::NexthopEvent>(&event);
            if (nexthop == nullptr) continue;
            saw_group |= nexthop->kind == nl::NexthopEvent::Kind::added && nexthop->nexthop == group(20, {10, 11});
            saw_removal |= nexthop->kind == nl::NexthopEvent::Kind::deleted && nexthop->nexthop.id == 10;
        }
    }
    CHECK(saw_group);
    CHECK(saw_removal);

    // Removal in reverse: route, group, member; a second removal is "not found", not an error.
    const nl::KernelChanges remove{
        {}, {{nl::RouteChange::Kind::remove, route}}, {{Kind::remove, group(20, {11})}, {Kind::remove, b}}};
    CHECK(nl::apply_kernel_changes(socket, remove).nexthops_last == std::vector<int>{0, 0});
    CHECK(nl::apply_kernel_changes(socket, remove).nexthops_last == std::vector<int>{nl::k_not_found, nl::k_not_found});
    CHECK(nl::dump_nexthops(socket, k_protocol).ours.empty());
    CHECK(nl::dump_routes(socket, 241, k_protocol).empty());
}
