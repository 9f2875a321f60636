// The watcher's view of the node's pods, keyed "namespace/name". Every mutation reports the
// eligibility changes it caused (PodState differs: appeared, vanished, Ready flipped,
// DeletionTimestamp set, uid changed); resourceVersion or annotation churn reports nothing.
#pragma once

#include "common/kube/pod_info.hpp"
#include "common/pod_state.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace anycast::common::kube {

struct EligibilityChange {
    std::string key;                 // "namespace/name"
    std::optional<PodState> before;  // nullopt: the pod was unknown
    std::optional<PodState> after;   // nullopt: the pod is gone
};

class PodCache {
public:
    // ADDED / MODIFIED.
    std::vector<EligibilityChange> upsert(PodInfo pod);
    // DELETED.
    std::vector<EligibilityChange> remove(const std::string& key);
    // A full list: pods not in `pods` are removed (they vanished while we were not watching).
    std::vector<EligibilityChange> replace(std::vector<PodInfo> pods);

    std::vector<PodState> snapshot() const;
    const PodInfo* find(const std::string& key) const;
    std::size_t size() const { return pods_.size(); }

private:
    std::map<std::string, PodInfo> pods_;
};

}  // namespace anycast::common::kube
