#include "common/netlink/address.hpp"

#include "common/netlink/attributes.hpp"
#include "common/netlink/message.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

namespace anycast::common::netlink {

namespace {

std::string describe(const char* what, int ifindex, const IpAddress& address) {
    return std::string(what) + " " + Prefix::host(address).to_string() + " dev " + std::to_string(ifindex);
}

void build_address_message(MessageBuilder& request, int ifindex, const IpAddress& address) {
    auto& info = request.family_header<ifaddrmsg>();
    info.ifa_family = static_cast<std::uint8_t>(address_family(address.family()));
    info.ifa_prefixlen = static_cast<std::uint8_t>(address.max_prefix_len());
    // No duplicate address detection: an anycast address exists on many nodes by design,
    // and a tentative address would not be usable yet.
    info.ifa_flags = address.is_v4() ? 0 : IFA_F_NODAD;
    info.ifa_scope = RT_SCOPE_UNIVERSE;
    info.ifa_index = static_cast<std::uint32_t>(ifindex);
    if (address.is_v4()) request.put_address(IFA_LOCAL, address);
    request.put_address(IFA_ADDRESS, address);
}

}  // namespace

void add_address(Socket& socket, int ifindex, const IpAddress& address) {
    MessageBuilder request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    build_address_message(request, ifindex, address);
    socket.execute(request.header(), describe("RTM_NEWADDR", ifindex, address), {EEXIST});
}

void delete_address(Socket& socket, int ifindex, const IpAddress& address) {
    MessageBuilder request(RTM_DELADDR, 0);
    build_address_message(request, ifindex, address);
    socket.execute(request.header(), describe("RTM_DELADDR", ifindex, address), {EADDRNOTAVAIL});
}

std::vector<Prefix> list_addresses(Socket& socket, int ifindex) {
    MessageBuilder request(RTM_GETADDR, 0);
    auto& filter = request.family_header<ifaddrmsg>();
    filter.ifa_family = AF_UNSPEC;
    filter.ifa_index = static_cast<std::uint32_t>(ifindex);  // filtered by the kernel under strict checking
    std::vector<Prefix> result;
    socket.dump(request.header(), "dump addresses of link " + std::to_string(ifindex), [&](const nlmsghdr& message) {
        if (message.nlmsg_type != RTM_NEWADDR) return;
        const auto attributes = Attributes::parse(message, sizeof(ifaddrmsg), IFA_MAX,
                                                  {{IFA_ADDRESS, MNL_TYPE_BINARY, 0}, {IFA_LOCAL, MNL_TYPE_BINARY, 0}});
        if (!attributes) return;
        const auto* info = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&message));
        if (info->ifa_index != static_cast<std::uint32_t>(ifindex)) return;
        const auto family = family_from(info->ifa_family);
        if (!family) return;
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point
        // links (and the only one IPv6 sends otherwise).
        auto address = attributes->address(IFA_LOCAL, *family);
        if (!address) address = attributes->address(IFA_ADDRESS, *family);
        if (address && info->ifa_prefixlen <= address->max_prefix_len()) {
            result.push_back(Prefix::masked(*address, info->ifa_prefixlen));
        }
    });
    return result;
}

}  // namespace anycast::common::netlink
