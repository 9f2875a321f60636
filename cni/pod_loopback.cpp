#include "cni/pod_loopback.hpp"

#include "common/log.hpp"
#include "common/netlink/address.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/socket.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>

#include <algorithm>

namespace anycast::cni {

namespace netlink = common::netlink;
namespace log = common::log;
using common::IpAddress;
using common::Prefix;

namespace {

netlink::Link loopback(netlink::Socket& socket, const std::string& netns_path) {
    auto lo = netlink::find_link(socket, "lo");
    if (!lo) throw common::SystemError(ENODEV, "find lo in " + netns_path);
    return *lo;
}

bool has_host_address(const std::vector<Prefix>& addresses, const IpAddress& ip) {
    return std::find(addresses.begin(), addresses.end(), Prefix::host(ip)) != addresses.end();
}

}  // namespace

bool netns_exists(const std::string& netns_path) {
    common::UniqueFd fd(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    return fd.valid();
}

std::vector<IpAddress> add_to_pod_loopback(const std::string& netns_path, const std::vector<IpAddress>& ips) {
    auto socket = netlink::Socket::open_in_netns(netns_path);
    const auto lo = loopback(socket, netns_path);
    if (!lo.up) netlink::set_link_up(socket, lo.index);
    const auto present = netlink::list_addresses(socket, lo.index);
    std::vector<IpAddress> added;
    try {
        for (const auto& ip : ips) {
            if (has_host_address(present, ip)) continue;
            netlink::add_address(socket, lo.index, ip);
            added.push_back(ip);
        }
    } catch (...) {
        for (const auto& ip : added) {
            try {
                netlink::delete_address(socket, lo.index, ip);
            } catch (const std::exception& e) {
                log::error("rollback: could not remove an anycast IP from lo",
                           {log::kv("ip", ip), log::kv("error", e.what())});
            }
        }
        throw;
    }
    return added;
}

void remove_from_pod_loopback(const std::string& netns_path, const std::vector<IpAddress>& ips) {
    if (ips.empty()) return;
    auto socket = netlink::Socket::open_in_netns(netns_path);
    const auto lo = loopback(socket, netns_path);
    for (const auto& ip : ips) netlink::delete_address(socket, lo.index, ip);
}

std::vector<IpAddress> missing_from_pod_loopback(const std::string& netns_path, const std::vector<IpAddress>& ips) {
    auto socket = netlink::Socket::open_in_netns(netns_path);
    const auto lo = loopback(socket, netns_path);
    if (!lo.up) return ips;
    const auto present = netlink::list_addresses(socket, lo.index);
    std::vector<IpAddress> missing;
    for (const auto& ip : ips) {
        if (!has_host_address(present, ip)) missing.push_back(ip);
    }
    return missing;
}

}  // namespace anycast::cni
