#include "reconciler/resolve.hpp"

#include "common/policy.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <utility>

namespace anycast::reconciler {

namespace {

using PodKey = std::pair<std::string_view, std::string_view>;  // namespace, name

std::map<PodKey, const common::PodState*> index_pods(const ReadinessSnapshot& pods) {
    std::map<PodKey, const common::PodState*> index;
    for (const auto& pod : pods.pods) index.emplace(PodKey{pod.namespace_, pod.name}, &pod);
    return index;
}

const char* why_ineligible(const common::Record& record, const ReadinessSnapshot& pods,
                           const std::map<PodKey, const common::PodState*>& index) {
    if (pods.all_ready) return nullptr;
    const auto found = index.find(PodKey{record.pod.namespace_, record.pod.name});
    if (found == index.end()) return "pod unknown";
    const common::PodState& pod = *found->second;
    // A record without uid (runtime did not pass it) matches any incarnation of the name;
    // with one, a re-created pod of the same name must not inherit the old pod's routes.
    if (!record.pod.uid.empty() && pod.uid != record.pod.uid) return "uid differs";
    if (pod.deleting) return "deleting";
    if (!pod.ready) return "not ready";
    return nullptr;
}

bool eligible_in(const common::Record& record, const ReadinessSnapshot& pods,
                 const std::map<PodKey, const common::PodState*>& index) {
    return why_ineligible(record, pods, index) == nullptr;
}

// The record's usable next hops of one family (bad ones are reported by check_nexthops).
std::vector<DesiredHop> hops_of(const common::Record& record, common::Family family) {
    std::vector<DesiredHop> hops;
    for (const auto& hop : record.nexthops) {
        if (hop.family != family) continue;
        if (hop.via.family() != family) continue;  // reported in check_nexthops
        if (hop.host_iface.empty()) continue;      // reported in check_nexthops
        hops.push_back(DesiredHop{hop.via, hop.host_iface});
    }
    return hops;
}

void check_nexthops(const common::Record& record, const std::string& name, std::vector<Skipped>& skipped) {
    for (const auto& hop : record.nexthops) {
        if (hop.via.family() != hop.family) {
            skipped.push_back({name, fmt::format("next hop {} is not of family {}", hop.via.to_string(),
                                                 common::family_number(hop.family))});
        } else if (hop.host_iface.empty()) {
            skipped.push_back({name, fmt::format("next hop {} has no hostIface", hop.via.to_string())});
        }
    }
}

}  // namespace

std::string record_name(const common::Record& record) {
    return fmt::format("{}_{}_{}", record.network, record.container_id, record.ifname);
}

bool eligible(const common::Record& record, const ReadinessSnapshot& pods) {
    return eligible_in(record, pods, index_pods(pods));
}

std::string ineligibility(const common::Record& record, const ReadinessSnapshot& pods) {
    const char* why = why_ineligible(record, pods, index_pods(pods));
    return why == nullptr ? std::string() : std::string(why);
}

Resolved resolve(const std::vector<common::Record>& records, const ReadinessSnapshot& pods,
                 const common::Policy& policy) {
    Resolved out;
    const auto index = index_pods(pods);
    std::map<common::Prefix, std::set<DesiredHop>> routes;

    for (const auto& record : records) {
        const std::string name = record_name(record);
        if (record.version != common::k_record_version) {
            out.skipped.push_back({name, fmt::format("unsupported record version {}", record.version)});
            continue;
        }
        check_nexthops(record, name, out.skipped);
        const bool usable = eligible_in(record, pods, index);
        if (usable) ++out.eligible_records;

        std::set<common::IpAddress> seen;
        for (const auto& ip : record.ips) {
            if (!seen.insert(ip).second) continue;
            // Policy is checked whatever the pod's state, so a forbidden IP is reported
            // as soon as its record appears, not only when the pod turns Ready.
            if (auto refusal = common::policy_refusal(policy, record.pod.namespace_, ip)) {
                out.skipped.push_back({name, fmt::format("{} skipped: {}", ip.to_string(), *refusal)});
                continue;
            }
            auto hops = hops_of(record, ip.family());
            if (hops.empty()) {
                out.skipped.push_back({name, fmt::format("{} skipped: no IPv{} next hop", ip.to_string(),
                                                         common::family_number(ip.family()))});
                continue;
            }
            if (!usable) continue;
            auto& set = routes[common::Prefix::host(ip)];
            set.insert(hops.begin(), hops.end());
        }
    }

    out.routes.reserve(routes.size());
    for (auto& [destination, hops] : routes) {
        out.routes.push_back(DesiredRoute{destination, std::vector<DesiredHop>(hops.begin(), hops.end())});
    }
    return out;
}

}  // namespace anycast::reconciler
