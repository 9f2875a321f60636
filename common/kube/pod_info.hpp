// The part of a Pod object this agent needs, extracted from the apiserver's JSON; every
// other field (spec, managedFields, most of status) is dropped at parse time.
#pragma once

#include "common/pod_state.hpp"

#include <boost/json/fwd.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common::kube {

struct PodInfo {
    std::string namespace_;
    std::string name;
    std::string uid;
    std::string resource_version;
    bool ready = false;     // status.conditions[type=Ready].status == "True"
    bool deleting = false;  // metadata.deletionTimestamp is set
    std::map<std::string, std::string> annotations;

    // The eligibility-relevant view serve works with.
    PodState state() const;
    // "namespace/name", the cache key.
    std::string key() const { return namespace_ + "/" + name; }

    friend bool operator==(const PodInfo&, const PodInfo&) = default;
};

// Extracts a PodInfo from a Pod object; JsonError naming the field when metadata.name,
// metadata.namespace or metadata.uid is missing or has the wrong type.
PodInfo parse_pod(const boost::json::value& pod);

// The annotation `key`, split at commas, each entry trimmed, empty ones dropped:
// "10.255.53.53, fd00:255::53" → {"10.255.53.53", "fd00:255::53"}. Absent → {}.
std::vector<std::string> annotation_ips(const PodInfo& pod, std::string_view key);

}  // namespace anycast::common::kube
