#include "cni/next_hops.hpp"

#include "cni/pod_ip.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"

#include <fmt/format.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace anycast::cni {

namespace netlink = common::netlink;
using common::Family;
using common::IpAddress;

namespace {

std::string interface_name(int ifindex, const IpAddress& pod) {
    char name[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
        throw CniError(cni_code::no_next_hop,
                       fmt::format("route to pod IP {} uses interface index {}, which has no name: {}", pod, ifindex,
                                   std::strerror(errno)));
    }
    return name;
}

}  // namespace

std::vector<common::NextHopRecord> resolve_next_hops(const boost::json::object& prev_result,
                                                     const std::vector<IpAddress>& ips, const std::string& ifname) {
    std::vector<common::NextHopRecord> hops;
    std::optional<netlink::Socket> socket;
    for (const Family family : {Family::v4, Family::v6}) {
        const auto wanted =
            std::find_if(ips.begin(), ips.end(), [&](const IpAddress& ip) { return ip.family() == family; });
        if (wanted == ips.end()) continue;
        const auto via = pod_ip(prev_result, family, ifname);
        if (!via) {
            throw CniError(cni_code::no_next_hop,
                           fmt::format("anycast IP {} is IPv{} but the pod has no IPv{} address in prevResult", *wanted,
                                       common::family_number(family), common::family_number(family)));
        }
        if (!socket) socket.emplace(netlink::Socket::open());
        netlink::RouteLookup route{};
        try {
            route = netlink::lookup_route(*socket, *via);
        } catch (const netlink::NetlinkError& e) {
            throw CniError(cni_code::no_next_hop,
                           fmt::format("no route to pod IP {} in the host namespace: {}", *via, e.what()));
        }
        hops.push_back(common::NextHopRecord{family, *via, interface_name(route.ifindex, *via)});
    }
    return hops;
}

}  // namespace anycast::cni
