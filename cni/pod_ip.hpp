// Which of the prevResult's IPs is the pod's own, per family: the next hop for its anycast
// IPs (docs/architecture.md section 4).
#pragma once

#include "common/ip_address.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>

namespace anycast::cni {

// The pod's IP of `family` in a result: an IP on an interface inside the sandbox (non-empty
// `sandbox`), preferring the interface named `ifname`; an IP with no interface index counts
// when nothing better exists; IPs on host-side interfaces never do. nullopt when none.
// A malformed entry is CniError code 7 naming it ("prevResult.ips[0].address: ...").
std::optional<common::IpAddress> pod_ip(const boost::json::object& result, common::Family family,
                                        const std::string& ifname);

}  // namespace anycast::cni
