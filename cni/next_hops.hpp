// The node side of an attachment: for each family of the requested anycast IPs, the pod's IP
// of that family (from prevResult) and the host interface the kernel uses to reach it.
#pragma once

#include "common/ip_address.hpp"
#include "common/store/record.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

namespace anycast::cni {

// One next hop per family present in `ips`, IPv4 first. CniError code 101 when the pod has
// no IP of a needed family in `prev_result` or the host namespace has no route to it.
// RTM_GETROUTE runs in the calling thread's namespace: the plugin runs in the host's.
std::vector<common::NextHopRecord> resolve_next_hops(const boost::json::object& prev_result,
                                                     const std::vector<common::IpAddress>& ips,
                                                     const std::string& ifname);

}  // namespace anycast::cni
