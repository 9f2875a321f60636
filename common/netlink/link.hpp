// Network interfaces: name <-> index, and bringing one up.
#pragma once

#include "common/netlink/socket.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common::netlink {

struct Link {
    int index;
    std::string name;
    bool up;  // IFF_UP
    friend bool operator==(const Link&, const Link&) = default;
};

std::vector<Link> list_links(Socket& socket);
// Looks the name up in the kernel (RTM_GETLINK with IFLA_IFNAME); nullopt if no such link.
std::optional<Link> find_link(Socket& socket, std::string_view name);
void set_link_up(Socket& socket, int ifindex);

// Decodes an RTM_NEWLINK/RTM_DELLINK message; nullopt if malformed.
std::optional<Link> parse_link(const nlmsghdr& message);

}  // namespace anycast::common::netlink
