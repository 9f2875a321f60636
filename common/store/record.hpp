// One allocation record (docs/architecture.md section 5): the contract between the CNI plugin, which
// writes it, and serve, which turns records into routes.
#pragma once

#include "common/ip_address.hpp"

#include <string>
#include <vector>

namespace anycast::common {

inline constexpr int k_record_version = 1;

struct PodRef {
    std::string namespace_;
    std::string name;
    std::string uid;  // may be empty when the runtime did not pass it
    friend bool operator==(const PodRef&, const PodRef&) = default;
};

struct NextHopRecord {
    Family family = Family::v4;
    IpAddress via;           // the pod's own IP of that family
    std::string host_iface;  // the node-side interface that reaches `via`
    friend bool operator==(const NextHopRecord&, const NextHopRecord&) = default;
};

struct Record {
    int version = k_record_version;
    std::string network;
    std::string container_id;
    std::string ifname;
    std::string netns;
    PodRef pod;
    std::vector<IpAddress> ips;
    std::vector<NextHopRecord> nexthops;
    std::string created;  // RFC 3339 UTC
};

}  // namespace anycast::common
