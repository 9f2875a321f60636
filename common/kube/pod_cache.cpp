#include "common/kube/pod_cache.hpp"

namespace anycast::common::kube {

std::vector<EligibilityChange> PodCache::upsert(PodInfo pod) {
    std::vector<EligibilityChange> changes;
    std::string key = pod.key();
    const PodState after = pod.state();
    auto found = pods_.find(key);
    if (found == pods_.end()) {
        changes.push_back({.key = key, .before = std::nullopt, .after = after});
        pods_.emplace(std::move(key), std::move(pod));
        return changes;
    }
    const PodState before = found->second.state();
    if (before != after) changes.push_back({.key = key, .before = before, .after = after});
    found->second = std::move(pod);
    return changes;
}

std::vector<EligibilityChange> PodCache::remove(const std::string& key) {
    std::vector<EligibilityChange> changes;
    auto found = pods_.find(key);
    if (found == pods_.end()) return changes;
    changes.push_back({.key = key, .before = found->second.state(), .after = std::nullopt});
    pods_.erase(found);
    return changes;
}

std::vector<EligibilityChange> PodCache::replace(std::vector<PodInfo> pods) {
    std::map<std::string, PodInfo> fresh;
    for (auto& pod : pods) {
        std::string key = pod.key();
        fresh.insert_or_assign(std::move(key), std::move(pod));
    }
    std::vector<EligibilityChange> changes;
    for (const auto& [key, old] : pods_) {
        if (!fresh.contains(key)) changes.push_back({.key = key, .before = old.state(), .after = std::nullopt});
    }
    for (const auto& [key, pod] : fresh) {
        auto found = pods_.find(key);
        const PodState after = pod.state();
        if (found == pods_.end()) {
            changes.push_back({.key = key, .before = std::nullopt, .after = after});
        } else if (found->second.state() != after) {
            changes.push_back({.key = key, .before = found->second.state(), .after = after});
        }
    }
    pods_ = std::move(fresh);
    return changes;
}

std::vector<PodState> PodCache::snapshot() const {
    std::vector<PodState> states;
    states.reserve(pods_.size());
    for (const auto& [key, pod] : pods_) states.push_back(pod.state());
    return states;
}

const PodInfo* PodCache::find(const std::string& key) const {
    auto found = pods_.find(key);
    return found == pods_.end() ? nullptr : &found->second;
}

}  // namespace anycast::common::kube
