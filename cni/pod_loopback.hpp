// The pod side of an attachment: anycast IPs on the `lo` of the pod's network namespace.
// Netlink sockets are opened inside the namespace, so the calling thread never switches.
#pragma once

#include "common/ip_address.hpp"

#include <string>
#include <vector>

namespace anycast::cni {

// True when `netns_path` names a network namespace that can be opened.
bool netns_exists(const std::string& netns_path);

// Sets `lo` up and adds each IP as /32 or /128 (idempotent). Returns the IPs that were not
// there before, which are exactly what a rollback must remove. On failure the IPs added by
// this call are removed again before the error propagates.
std::vector<common::IpAddress> add_to_pod_loopback(const std::string& netns_path,
                                                   const std::vector<common::IpAddress>& ips);

// Removes the IPs from `lo`; IPs already gone are fine.
void remove_from_pod_loopback(const std::string& netns_path, const std::vector<common::IpAddress>& ips);

// The IPs of `ips` that are not host addresses on `lo`, or all of them if `lo` is down.
std::vector<common::IpAddress> missing_from_pod_loopback(const std::string& netns_path,
                                                         const std::vector<common::IpAddress>& ips);

}  // namespace anycast::cni
