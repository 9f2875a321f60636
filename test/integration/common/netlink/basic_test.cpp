// Netlink layer against a real kernel: namespaces, sockets, links, addresses, route lookups.
#include "common/netlink/address.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/netns.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"
#include "test/support/netlink_fixture.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>

using namespace anycast::test;
namespace nl = anycast::common::netlink;
using anycast::common::Prefix;

TEST_CASE("NetnsGuard enters a namespace for its scope and restores the original one", "[netns]") {
    PrivateNetns netns;
    NamedNetns pod("pd");
    pod.exec(add_link_command("flkdummy"));
    const std::string before = current_netns();
    {
        nl::NetnsGuard guard(pod.path());
        CHECK(current_netns() != before);
        auto socket = nl::Socket::open();
        CHECK(nl::find_link(socket, "flkdummy").has_value());
    }
    CHECK(current_netns() == before);
    auto socket = nl::Socket::open();
    CHECK_FALSE(nl::find_link(socket, "flkdummy").has_value());
}

TEST_CASE("NetnsGuard names the path when the namespace does not exist and stays put", "[netns]") {
    PrivateNetns netns;
    const std::string before = current_netns();
    const std::string path = "/run/netns/" + unique_name("no");
    try {
        nl::NetnsGuard guard(path);
        FAIL("entered a namespace that does not exist");
    } catch (const anycast::common::SystemError& e) {
        CHECK(std::string(e.what()) == "open netns " + path + ": No such file or directory");
        CHECK(e.error_number() == ENOENT);
    }
    CHECK(current_netns() == before);
}

TEST_CASE("a socket opened in another namespace sees that namespace's links", "[netns]") {
    PrivateNetns netns;
    NamedNetns pod("pd");
    pod.exec(add_link_command("flkinpod"));
    const std::string before = current_netns();
    auto in_pod = nl::Socket::open_in_netns(pod.path());
    CHECK(current_netns() == before);
    CHECK(nl::find_link(in_pod, "flkinpod").has_value());
    auto here = nl::Socket::open();
    CHECK_FALSE(nl::find_link(here, "flkinpod").has_value());
    CHECK_THROWS_AS(nl::Socket::open_in_netns("/run/netns/" + unique_name("no")), anycast::common::SystemError);
}

TEST_CASE("links are listed with their index, found by name and set up", "[netns]") {
    PrivateNetns netns;
    const std::string name = unique_name("dm");
    sh(add_link_command(name));
    auto socket = nl::Socket::open();

    const int expected_index = std::stoi(sh("ip -o link show dev " + name + " | cut -d: -f1"));
    const auto links = nl::list_links(socket);
    const auto it = std::find_if(links.begin(), links.end(), [&](const nl::Link& l) { return l.name == name; });
    REQUIRE(it != links.end());
    CHECK(it->index == expected_index);
    CHECK_FALSE(it->up);
    CHECK(std::any_of(links.begin(), links.end(), [](const nl::Link& l) { return l.name == "lo" && l.up; }));

    auto found = nl::find_link(socket, name);
    REQUIRE(found);
    CHECK(*found == *it);
    CHECK_FALSE(nl::find_link(socket, "flknosuchlink").has_value());
    CHECK_FALSE(nl::find_link(socket, "").has_value());
    CHECK_FALSE(nl::find_link(socket, "a-name-longer-than-ifnamsiz").has_value());

    nl::set_link_up(socket, expected_index);
    CHECK(nl::find_link(socket, name)->up);
    CHECK(sh("ip -o link show dev " + name).find(",UP") != std::string::npos);
}

TEST_CASE("setting a missing link up fails with ENODEV naming the request", "[netns]") {
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    check_netlink_error([&] { nl::set_link_up(socket, 99999); }, ENODEV, "set link 99999 up");
}

TEST_CASE("host addresses are added and deleted idempotently, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    const std::string name = unique_name("dm");
    sh(add_link_command(name) + " && ip link set " + name + " up");
    auto socket = nl::Socket::open();
    const int index = ifindex(socket, name);

    for (const auto* text : {"10.255.53.53", "fd00:53::53"}) {
        DYNAMIC_SECTION("address " << text) {
            const auto address = ip(text);
            nl::add_address(socket, index, address);
            nl::add_address(socket, index, address);  // already present: fine
            auto listed = nl::list_addresses(socket, index);
            CHECK(std::count(listed.begin(), listed.end(), Prefix::host(address)) == 1);
            CHECK(sh("ip addr show dev " + name).find(Prefix::host(address).to_string()) != std::string::npos);
            if (!address.is_v4()) {
                // Usable at once: no duplicate address detection left pending.
                CHECK(sh("ip addr show dev " + name).find("tentative") == std::string::npos);
            }

            nl::delete_address(socket, index, address);
            nl::delete_address(socket, index, address);  // already gone: fine
            listed = nl::list_addresses(socket, index);
            CHECK(std::count(listed.begin(), listed.end(), Prefix::host(address)) == 0);
            CHECK(sh("ip addr show dev " + name).find(Prefix::host(address).to_string()) == std::string::npos);
        }
    }
}

TEST_CASE("addresses are listed per interface and other interfaces' are left out", "[netns]") {
    PrivateNetns netns;
    const std::string a = unique_name("da");
    const std::string b = unique_name("db");
    sh(add_link_command(a) + " && " + add_link_command(b));
    sh("ip addr add 10.1.0.1/32 dev " + a + " && ip addr add 10.2.0.1/32 dev " + b);
    sh("ip addr add 10.3.0.5/24 dev " + a + " && ip -6 addr add fd00:1::1/128 dev " + a + " nodad");
    auto socket = nl::Socket::open();
    auto listed = nl::list_addresses(socket, ifindex(socket, a));
    std::sort(listed.begin(), listed.end());
    // A Prefix cannot hold host bits: the /24 comes back as its network.
    std::vector<Prefix> expected{prefix("10.1.0.1/32"), prefix("10.3.0.0/24"), prefix("fd00:1::1/128")};
    CHECK(listed == expected);
}

TEST_CASE("adding an address to a missing interface fails naming the request", "[netns]") {
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    check_netlink_error([&] { nl::add_address(socket, 99999, ip("10.0.0.1")); }, ENODEV,
                        "RTM_NEWADDR 10.0.0.1/32 dev 99999");
}

TEST_CASE("route lookup returns the interface and gateway, IPv4 and IPv6", "[netns]") {
    PrivateNetns netns;
    NamedNetns pod("pd");
    const std::string host_end = unique_name("vh");
    make_veth(host_end, "eth0", pod.name());
    sh("ip addr add 10.99.0.1/24 dev " + host_end);
    sh("ip -6 addr add fd00:99::1/64 dev " + host_end + " nodad");
    sh("ip route add 10.50.0.0/16 via 10.99.0.2 dev " + host_end);
    sh("ip -6 route add fd00:50::/64 via fd00:99::2 dev " + host_end);
    auto socket = nl::Socket::open();
    const int index = ifindex(socket, host_end);

    auto direct4 = nl::lookup_route(socket, ip("10.99.0.2"));
    CHECK(direct4.ifindex == index);
    CHECK_FALSE(direct4.gateway.has_value());
    auto via4 = nl::lookup_route(socket, ip("10.50.3.4"));
    CHECK(via4.ifindex == index);
    CHECK(via4.gateway == ip("10.99.0.2"));

    auto direct6 = nl::lookup_route(socket, ip("fd00:99::2"));
    CHECK(direct6.ifindex == index);
    CHECK_FALSE(direct6.gateway.has_value());
    auto via6 = nl::lookup_route(socket, ip("fd00:50::7"));
    CHECK(via6.ifindex == index);
    CHECK(via6.gateway == ip("fd00:99::2"));
}

TEST_CASE("route lookup of an unreachable destination throws ENETUNREACH naming it", "[netns]") {
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    for (const std::string text : {"10.77.0.1", "fd00:77::1"}) {
        check_netlink_error([&] { nl::lookup_route(socket, ip(text)); }, ENETUNREACH, "RTM_GETROUTE " + text);
    }
}
