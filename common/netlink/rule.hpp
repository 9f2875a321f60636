// Policy routing rules ("ip rule add priority P lookup T").
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/socket.hpp"

#include <cstdint>
#include <optional>

namespace anycast::common::netlink {

// A "from all lookup <table>" rule as the kernel reports it (RTM_NEWRULE/RTM_DELRULE).
struct Rule {
    Family family;
    std::uint32_t priority = 0;
    std::uint32_t table = 0;
    friend bool operator==(const Rule&, const Rule&) = default;
};

// Decodes a rule notification; nullopt if malformed or not IPv4/IPv6.
std::optional<Rule> parse_rule(const nlmsghdr& message);

// Ensures a rule "priority `priority` lookup `table`" exists for the family; idempotent.
void ensure_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table);
// Removes it; already gone is success.
void remove_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table);

}  // namespace anycast::common::netlink
