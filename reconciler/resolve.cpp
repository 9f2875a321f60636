#include "reconciler/resolve.hpp"

#include "common/policy.hpp"

#include <fmt/format.h>

#include <endian.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
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

bool usable_hop(const common::NextHopRecord& hop, common::Family family) {
    // Mismatched families and missing interfaces are reported by check_nexthops.
    return hop.family == family && hop.via.family() == family && !hop.host_iface.empty();
}

bool has_hop(const common::Record& record, common::Family family) {
    return std::any_of(record.nexthops.begin(), record.nexthops.end(),
                       [family](const auto& hop) { return usable_hop(hop, family); });
}

using RouteHop = std::pair<common::Prefix, DesiredHop>;

// The bytes of an address as two big-endian words (v4 is zero-padded): compares like the
// bytes themselves without a memcmp call, which dominated sorting 10 000 route hops.
std::pair<std::uint64_t, std::uint64_t> words(const common::IpAddress& ip) {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, ip.data(), 8);
    std::memcpy(&lo, ip.data() + 8, 8);
    return {be64toh(hi), be64toh(lo)};
}

// The same order as RouteHop's own operator<, only cheaper.
bool route_hop_less(const RouteHop& a, const RouteHop& b) {
    const auto key = [](const RouteHop& h) {
        return std::tuple(h.first.family(), words(h.first.address()), h.first.length(), words(h.second.via));
    };
    const auto ka = key(a);
    const auto kb = key(b);
    if (ka != kb) return ka < kb;
    return a.second.iface < b.second.iface;
}

void add_hops(const common::Record& record, const common::IpAddress& ip, std::vector<RouteHop>& out) {
    for (const auto& hop : record.nexthops) {
        if (usable_hop(hop, ip.family())) out.emplace_back(common::Prefix::host(ip), DesiredHop{hop.via, hop.host_iface});
    }
}

void check_nexthops(const common::Record& record, std::vector<Skipped>& skipped) {
    for (const auto& hop : record.nexthops) {
        if (hop.via.family() != hop.family) {
            skipped.push_back({record_name(record), fmt::format("next hop {} is not of family {}", hop.via.to_string(),
                                                 common::family_number(hop.family))});
        } else if (hop.host_iface.empty()) {
            skipped.push_back({record_name(record), fmt::format("next hop {} has no hostIface", hop.via.to_string())});
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

Resolved resolve(std::span<const common::Record* const> records, const ReadinessSnapshot& pods,
                 const common::Policy& policy) {
    Resolved out;
    const auto index = index_pods(pods);
    // (destination, hop) pairs, sorted and grouped once at the end: with 10 000 records a
    // flat sort is several times cheaper than a map of sets.
    std::vector<RouteHop> route_hops;
    route_hops.reserve(records.size());

    // Runs on every pass over every record: the record's name is formatted only when
    // something about it is reported.
    for (const common::Record* record_ptr : records) {
        const common::Record& record = *record_ptr;
        if (record.version != common::k_record_version) {
            out.skipped.push_back({record_name(record), fmt::format("unsupported record version {}", record.version)});
            continue;
        }
        check_nexthops(record, out.skipped);
        const bool usable = eligible_in(record, pods, index);
        if (usable) ++out.eligible_records;

        for (auto ip = record.ips.begin(); ip != record.ips.end(); ++ip) {
            if (std::find(record.ips.begin(), ip, *ip) != ip) continue;  // listed twice
            // Policy is checked whatever the pod's state, so a forbidden IP is reported
            // as soon as its record appears, not only when the pod turns Ready.
            if (auto refusal = common::policy_refusal(policy, record.pod.namespace_, *ip)) {
                out.skipped.push_back({record_name(record), fmt::format("{} skipped: {}", ip->to_string(), *refusal)});
                continue;
            }
            if (!has_hop(record, ip->family())) {
                out.skipped.push_back({record_name(record), fmt::format("{} skipped: no IPv{} next hop", ip->to_string(),
                                                                        common::family_number(ip->family()))});
                continue;
            }
            if (!usable) continue;
            add_hops(record, *ip, route_hops);
        }
    }

    std::sort(route_hops.begin(), route_hops.end(), route_hop_less);
    route_hops.erase(std::unique(route_hops.begin(), route_hops.end()), route_hops.end());
    for (auto& [destination, hop] : route_hops) {
        if (out.routes.empty() || out.routes.back().destination != destination) {
            out.routes.push_back(DesiredRoute{destination, {}});
        }
        out.routes.back().hops.push_back(std::move(hop));
    }
    return out;
}

Resolved resolve(const std::vector<common::Record>& records, const ReadinessSnapshot& pods,
                 const common::Policy& policy) {
    std::vector<const common::Record*> pointers;
    pointers.reserve(records.size());
    for (const auto& record : records) pointers.push_back(&record);
    return resolve(pointers, pods, policy);
}

}  // namespace anycast::reconciler
