// Interface addresses: the anycast /32 or /128 inside a pod.
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/socket.hpp"

#include <vector>

namespace anycast::common::netlink {

// Adds `address` as a host address (/32 or /128, IPv6 without DAD so it is usable at once);
// already present is success.
void add_address(Socket& socket, int ifindex, const IpAddress& address);
// Removes it; already gone is success.
void delete_address(Socket& socket, int ifindex, const IpAddress& address);
// The addresses of the interface, both families. A Prefix cannot hold host bits, so a
// non-host address (10.0.0.5/24) comes back masked (10.0.0.0/24); host ones are exact.
std::vector<Prefix> list_addresses(Socket& socket, int ifindex);

}  // namespace anycast::common::netlink
