// Proves the harness itself: a test's namespace work never reaches the host.
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

using namespace anycast::test;

namespace {

// The host's namespace as seen from outside every private namespace: pid 1's.
std::string host_view(const std::string& what) {
    return sh("nsenter --net=/proc/1/ns/net ip -d " + what + " | grep -v flkt || true");
}

}  // namespace

TEST_CASE("a test's routes, addresses and links stay inside its private namespace", "[netns]") {
    const std::string links_before = host_view("link show");
    const std::string routes4_before = host_view("-4 route show table all");
    const std::string routes6_before = host_view("-6 route show table all");
    const std::string addrs_before = host_view("addr show");
    {
        PrivateNetns netns;
        NamedNetns pod("pd");
        const std::string host_end = unique_name("vh");
        make_veth(host_end, "eth0", pod.name());
        sh("ip addr add 10.99.0.1/24 dev " + host_end);
        sh("ip route add 10.255.53.53/32 via 10.99.0.2 dev " + host_end + " proto 241 table 241");
        sh("ip route add 10.98.0.0/16 via 10.99.0.2");
        pod.exec("ip addr add 10.255.53.53/32 dev lo");
        CHECK(sh("ip route show table 241").find("10.255.53.53") != std::string::npos);
        CHECK(pod.exec("ip addr show dev lo").find("10.255.53.53/32") != std::string::npos);
    }
    CHECK(host_view("link show") == links_before);
    CHECK(host_view("-4 route show table all") == routes4_before);
    CHECK(host_view("-6 route show table all") == routes6_before);
    CHECK(host_view("addr show") == addrs_before);
}

TEST_CASE("named namespaces are removed when the fixture ends, also after a failure", "[netns]") {
    std::string name;
    try {
        NamedNetns pod("pd");
        name = pod.name();
        CHECK(sh("ip netns list").find(name) != std::string::npos);
        throw std::runtime_error("simulated test failure");
    } catch (const std::runtime_error&) {}
    CHECK(sh("ip netns list").find(name) == std::string::npos);
}
