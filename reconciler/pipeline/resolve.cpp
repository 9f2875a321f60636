#include "reconciler/pipeline/resolve.hpp"

#include "common/config/policy.hpp"
#include "common/store/record_store.hpp"

#include <boost/unordered/unordered_flat_set.hpp>
#include <fmt/format.h>

#include <endian.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <utility>

namespace anycast::reconciler {

namespace {

bool usable_hop(const common::NextHopRecord& hop, common::Family family) {
    // Mismatched families and missing interfaces are reported by check_nexthops.
    return hop.family == family && hop.via.family() == family && !hop.host_iface.empty();
}

// A destination and one record's next hop for it, the interface name pointed to rather than
// copied: with 10 000 records these are the largest thing a pass allocates. `via` is kept
// inline because the sort compares it (through a pointer it costs cache misses).
struct RouteHop {
    common::Prefix destination;
    common::IpAddress via;
    const std::string* iface;
};

// The bytes of an address as two big-endian words (v4 is zero-padded): compares like the
// bytes themselves without a memcmp call, which dominated sorting 10 000 route hops.
std::pair<std::uint64_t, std::uint64_t> words(const common::IpAddress& ip) {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, ip.data(), 8);
    std::memcpy(&lo, ip.data() + 8, 8);
    return {be64toh(hi), be64toh(lo)};
}

// By destination, then hop (via, interface): the order of DesiredRoute and DesiredHop.
bool route_hop_less(const RouteHop& a, const RouteHop& b) {
    const auto key = [](const RouteHop& h) {
        return std::tuple(h.destination.family(), words(h.destination.address()), h.destination.length(), words(h.via));
    };
    const auto ka = key(a);
    const auto kb = key(b);
    if (ka != kb) return ka < kb;
    return *a.iface < *b.iface;
}

bool same_route_hop(const RouteHop& a, const RouteHop& b) {
    return a.destination == b.destination && a.via == b.via && *a.iface == *b.iface;
}

void add_hops(const RouteRecord& record, const common::IpAddress& ip, std::vector<RouteHop>& out) {
    for (const auto& hop : record.nexthops) {
        if (usable_hop(hop, ip.family())) out.push_back({common::Prefix::host(ip), hop.via, &hop.host_iface});
    }
}

void check_nexthops(const RouteRecord& record, std::vector<Skipped>& skipped) {
    for (const auto& hop : record.nexthops) {
        if (hop.via.family() != hop.family) {
            skipped.push_back({record.name, fmt::format("next hop {} is not of family {}", hop.via,
                                                        common::family_number(hop.family))});
        } else if (hop.host_iface.empty()) {
            skipped.push_back({record.name, fmt::format("next hop {} has no hostIface", hop.via)});
        }
    }
}

}  // namespace

EligibilityIndex::EligibilityIndex(const ReadinessSnapshot& pods) : pods_(pods) {
    for (const auto& pod : pods.pods)
        by_name_.emplace(std::pair{std::string_view(pod.namespace_), std::string_view(pod.name)}, &pod);
}

const char* EligibilityIndex::why_ineligible(const common::PodRef& record_pod) const {
    if (pods_.all_ready) return nullptr;
    const auto found =
        by_name_.find(std::pair{std::string_view(record_pod.namespace_), std::string_view(record_pod.name)});
    if (found == by_name_.end()) return "pod unknown";
    const common::PodState& pod = *found->second;
    // A record without uid (runtime did not pass it) matches any incarnation of the name;
    // with one, a re-created pod of the same name must not inherit the old pod's routes.
    if (!record_pod.uid.empty() && pod.uid != record_pod.uid) return "uid differs";
    if (pod.deleting) return "deleting";
    if (!pod.ready) return "not ready";
    return nullptr;
}

bool has_usable_hop(const RouteRecord& record, common::Family family) {
    return std::any_of(record.nexthops.begin(), record.nexthops.end(),
                       [family](const auto& hop) { return usable_hop(hop, family); });
}

std::string record_name(const common::Record& record) {
    return common::RecordStore::stem(record.network, record.container_id, record.ifname);
}

RouteRecord route_record(std::string name, common::Record record) {
    return {std::move(name), std::move(record.pod), std::move(record.ips), std::move(record.nexthops),
            std::move(record.netns)};
}

bool eligible(const common::Record& record, const ReadinessSnapshot& pods) {
    return EligibilityIndex(pods).why_ineligible(record.pod) == nullptr;
}

std::string ineligibility(const common::Record& record, const ReadinessSnapshot& pods) {
    const char* why = EligibilityIndex(pods).why_ineligible(record.pod);
    return why == nullptr ? std::string() : std::string(why);
}

PreparedRecords::PreparedRecords(std::span<const RouteRecord* const> records, const common::Policy& policy) {
    entries_.reserve(records.size());
    // The plugin writes a record's IPs sorted and unique. A record written otherwise may list
    // an IP twice, and only its first listing counts: found with a set, since looking back
    // along the list is quadratic in a record that lists thousands.
    boost::unordered_flat_set<common::IpAddress> listed;
    for (const RouteRecord* record_ptr : records) {
        const RouteRecord& record = *record_ptr;
        check_nexthops(record, skipped_);
        Entry& entry = entries_.emplace_back(Entry{&record, {}});
        const bool sorted_unique =
            std::adjacent_find(record.ips.begin(), record.ips.end(), std::greater_equal<>()) == record.ips.end();
        listed.clear();
        for (auto ip = record.ips.begin(); ip != record.ips.end(); ++ip) {
            if (!sorted_unique && !listed.insert(*ip).second) continue;  // listed twice
            // Policy is checked whatever the pod's state, so a forbidden IP is reported
            // as soon as its record appears, not only when the pod turns Ready.
            if (auto refusal = common::policy_refusal(policy, record.pod.namespace_, *ip)) {
                skipped_.push_back({record.name, fmt::format("{} skipped: {}", *ip, *refusal)});
                continue;
            }
            if (!has_usable_hop(record, ip->family())) {
                skipped_.push_back({record.name, fmt::format("{} skipped: no IPv{} next hop", *ip,
                                                             common::family_number(ip->family()))});
                continue;
            }
            entry.ips.push_back(*ip);
        }
    }
    std::vector<std::size_t> order(entries_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const auto key = [this](std::size_t i) {
        const common::PodRef& pod = entries_[i].record->pod;
        return std::pair{std::string_view(pod.namespace_), std::string_view(pod.name)};
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
    pod_keys_.reserve(order.size());
    for (const std::size_t i : order) pod_keys_.push_back(key(i));
    pod_entries_ = std::move(order);
}

std::span<const std::size_t> PreparedRecords::of_pod(std::string_view namespace_, std::string_view name) const {
    const auto [first, last] = std::equal_range(pod_keys_.begin(), pod_keys_.end(), std::pair{namespace_, name});
    return std::span<const std::size_t>(pod_entries_)
        .subspan(static_cast<std::size_t>(first - pod_keys_.begin()), static_cast<std::size_t>(last - first));
}

Resolved resolve(const PreparedRecords& records, const ReadinessSnapshot& pods) {
    Resolved out;
    out.skipped = records.skipped();
    // (destination, hop) pairs, sorted and grouped once at the end: with 10 000 records a
    // flat sort is several times cheaper than a map of sets.
    std::vector<RouteHop> route_hops;
    const auto take = [&](const PreparedRecords::Entry& entry) {
        ++out.eligible_records;
        for (const auto& ip : entry.ips) add_hops(*entry.record, ip, route_hops);
    };
    if (pods.all_ready) {
        route_hops.reserve(records.entries().size());
        for (const auto& entry : records.entries()) take(entry);
    } else {
        // From the pods to their records, not the other way: records whose pod the snapshot
        // does not know are not eligible and cost one bit of `decided` here. The first pod of
        // a name decides for its records, as in EligibilityIndex (a source should never send two).
        std::vector<bool> decided(records.entries().size());
        for (const auto& pod : pods.pods) {
            const bool usable = !pod.deleting && pod.ready;
            for (const std::size_t i : records.of_pod(pod.namespace_, pod.name)) {
                if (decided[i]) continue;
                decided[i] = true;
                const auto& entry = records.entries()[i];
                // A record without uid matches any incarnation of the name; with one, a
                // re-created pod of the same name must not inherit the old pod's routes.
                if (usable && (entry.record->pod.uid.empty() || entry.record->pod.uid == pod.uid)) take(entry);
            }
        }
    }

    std::sort(route_hops.begin(), route_hops.end(), route_hop_less);
    route_hops.erase(std::unique(route_hops.begin(), route_hops.end(), same_route_hop), route_hops.end());
    // Each destination's hops are one run of the sorted pairs: sized exactly, no regrowth.
    for (auto run = route_hops.begin(); run != route_hops.end();) {
        const auto run_end =
            std::find_if(run, route_hops.end(), [&](const RouteHop& h) { return h.destination != run->destination; });
        DesiredRoute& route = out.routes.emplace_back(DesiredRoute{run->destination, {}});
        route.hops.reserve(static_cast<std::size_t>(run_end - run));
        for (; run != run_end; ++run) route.hops.push_back(DesiredHop{run->via, *run->iface});
    }
    return out;
}

Resolved resolve(std::span<const RouteRecord* const> records, const ReadinessSnapshot& pods,
                 const common::Policy& policy) {
    return resolve(PreparedRecords(records, policy), pods);
}

Resolved resolve(const std::vector<common::Record>& records, const ReadinessSnapshot& pods,
                 const common::Policy& policy) {
    std::vector<RouteRecord> route_records;
    route_records.reserve(records.size());
    // Every parsed record, newer versions included: the parser read the fields this build knows.
    for (const auto& record : records) route_records.push_back(route_record(record_name(record), record));
    std::vector<const RouteRecord*> pointers;
    pointers.reserve(route_records.size());
    for (const auto& record : route_records) pointers.push_back(&record);
    return resolve(pointers, pods, policy);
}

}  // namespace anycast::reconciler
