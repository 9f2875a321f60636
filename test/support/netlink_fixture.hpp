// Helpers shared by the netlink integration tests (test/integration/common/netlink/*_test.cpp).
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/link.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

namespace anycast::test {

inline common::IpAddress ip(const std::string& text) {
    auto parsed = common::IpAddress::parse(text);
    if (!parsed) throw std::invalid_argument("bad IP in test: " + text);
    return *parsed;
}

inline common::Prefix prefix(const std::string& text) {
    auto parsed = common::Prefix::parse(text);
    if (!parsed) throw std::invalid_argument("bad prefix in test: " + text);
    return *parsed;
}

inline int ifindex(common::netlink::Socket& socket, const std::string& name) {
    auto link = common::netlink::find_link(socket, name);
    if (!link) throw std::runtime_error("no link " + name);
    return link->index;
}

// The command creating a link that is down and has no addresses (this kernel has no dummy
// driver): a veth whose peer is "<name>p". Run it with sh() or NamedNetns::exec().
inline std::string add_link_command(const std::string& name) {
    return "ip link add " + name + " type veth peer name " + name.substr(0, 14) + "p";
}

// Runs `action`, which must throw NetlinkError with this errno and request description.
template <typename Action>
void check_netlink_error(Action&& action, int error, const std::string& request) {
    try {
        action();
        FAIL("no error for " << request);
    } catch (const common::netlink::NetlinkError& e) {
        CHECK(e.error_number() == error);
        CHECK(e.request() == request);
    }
}

// The inode of the calling thread's network namespace, to compare before and after.
inline std::string current_netns() { return sh("readlink /proc/thread-self/ns/net"); }

}  // namespace anycast::test
