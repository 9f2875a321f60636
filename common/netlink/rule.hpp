// Policy routing rules ("ip rule add priority P lookup T").
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/socket.hpp"

#include <cstdint>

namespace anycast::common::netlink {

// Ensures a rule "priority `priority` lookup `table`" exists for the family; idempotent.
void ensure_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table);
// Removes it; already gone is success.
void remove_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table);

}  // namespace anycast::common::netlink
