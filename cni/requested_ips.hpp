// The anycast IPs a pod asks for (docs/architecture.md section 4): the union of the plugin entry's
// anycastIPs, runtimeConfig.anycastIPs (capability "anycastIPs"), CNI_ARGS ANYCAST_IPS=ip,ip
// and the pod annotation.
#pragma once

#include "common/ip_address.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace anycast::cni {

// More than this many distinct IPs on one attachment is refused (code 7): each IP is an
// address on the pod's lo and a route on the node; a bound keeps ADD, the record and the
// reconciler's pass small. Real uses need a handful.
inline constexpr std::size_t k_max_anycast_ips = 256;

struct IpRequest {
    const std::vector<common::IpAddress>* static_ips = nullptr;  // the plugin entry's anycastIPs
    const boost::json::object* runtime_config = nullptr;         // runtimeConfig (may hold anycastIPs)
    std::optional<std::string> cni_args;                         // CNI_ARGS ANYCAST_IPS
    std::optional<std::string> annotation;                       // the pod annotation's value
    std::string annotation_name;                                 // for messages
};

// Parses, dedupes and sorts (IPv4 first) the requested IPs. An unparseable IP or too many is
// CniError code 7 naming where it came from ("runtimeConfig.anycastIPs[1]: not an IP
// address: \"x\"", "CNI_ARGS ANYCAST_IPS: ...", "annotation anycast.flock.io/ips: ...").
std::vector<common::IpAddress> requested_ips(const IpRequest& request);

}  // namespace anycast::cni
