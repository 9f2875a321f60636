#include "common/netlink/link.hpp"

#include "common/netlink/attributes.hpp"
#include "common/netlink/message.hpp"

#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <cerrno>

namespace anycast::common::netlink {

std::optional<Link> parse_link(const nlmsghdr& message) {
    if (message.nlmsg_type != RTM_NEWLINK && message.nlmsg_type != RTM_DELLINK) return std::nullopt;
    const auto attributes =
        Attributes::parse(message, sizeof(ifinfomsg), IFLA_MAX, {{IFLA_IFNAME, MNL_TYPE_NUL_STRING, 0}});
    if (!attributes) return std::nullopt;
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&message));
    auto name = attributes->string(IFLA_IFNAME);
    if (!name) return std::nullopt;
    return Link{info->ifi_index, std::move(*name), (info->ifi_flags & IFF_UP) != 0};
}

std::vector<Link> list_links(Socket& socket) {
    MessageBuilder request(RTM_GETLINK, 0);
    request.family_header<ifinfomsg>().ifi_family = AF_UNSPEC;
    std::vector<Link> links;
    socket.dump(request.header(), "dump links", [&](const nlmsghdr& message) {
        if (auto link = parse_link(message)) links.push_back(std::move(*link));
    });
    return links;
}

std::optional<Link> find_link(Socket& socket, std::string_view name) {
    if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
    MessageBuilder request(RTM_GETLINK, 0);
    request.family_header<ifinfomsg>().ifi_family = AF_UNSPEC;
    request.put_string(IFLA_IFNAME, name);
    std::optional<Link> found;
    try {
        socket.query(request.header(), "RTM_GETLINK " + std::string(name),
                     [&](const nlmsghdr& message) { found = parse_link(message); });
    } catch (const NetlinkError& e) {
        if (e.error_number() == ENODEV) return std::nullopt;
        throw;
    }
    return found;
}

void set_link_up(Socket& socket, int ifindex) {
    MessageBuilder request(RTM_NEWLINK, 0);
    auto& info = request.family_header<ifinfomsg>();
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = ifindex;
    info.ifi_flags = IFF_UP;
    info.ifi_change = IFF_UP;
    socket.execute(request.header(), "set link " + std::to_string(ifindex) + " up");
}

}  // namespace anycast::common::netlink
