#include "common/netlink/nexthop_changes.hpp"

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <iterator>
#include <tuple>

namespace anycast::common::netlink {

namespace {

// Hash tables, not trees: a pass over 20 000 resilient routes built and tore down 40 000 tree
// nodes, 70% of its CPU (perf; bench/RESULTS.md). Nothing here depends on their order.
template <typename T>
using IdSet = boost::unordered_flat_set<T>;

struct NextHopHash {
    std::size_t operator()(const NextHop& hop) const {
        std::size_t seed = hash_value(hop.gateway);
        boost::hash_combine(seed, hop.ifindex);
        return seed;
    }
};

// Hands out ids no object in the namespace has, from protocol << 24 up (wrapping to 1).
class IdAllocator {
public:
    IdAllocator(const NexthopTable& kernel, int protocol) : next_(static_cast<std::uint32_t>(protocol & 0xff) << 24) {
        for (const auto& nexthop : kernel.ours) used_.insert(nexthop.id);
        used_.insert(kernel.others.begin(), kernel.others.end());
        if (next_ == 0) next_ = 1;
    }
    std::uint32_t take() {
        while (next_ == 0 || used_.contains(next_)) ++next_;
        used_.insert(next_);
        return next_++;
    }

private:
    IdSet<std::uint32_t> used_;
    std::uint32_t next_;
};

using RouteKey = std::tuple<std::uint32_t, Prefix, std::uint32_t>;
RouteKey key_of(const Route& route) { return {route.table, route.destination, route.priority}; }

}  // namespace

NexthopPlan plan_nexthops(std::vector<Route>& routes, const std::vector<Route>& installed, const NexthopTable& kernel,
                          int protocol, const std::optional<ResilientGroupSettings>& resilient) {
    NexthopPlan plan;
    boost::unordered_flat_map<std::uint32_t, const Nexthop*> ours;
    boost::unordered_flat_map<NextHop, std::uint32_t, NextHopHash> member_of_hop;
    for (const auto& nexthop : kernel.ours) {
        ours.emplace(nexthop.id, &nexthop);
        if (nexthop.hop) member_of_hop.emplace(*nexthop.hop, nexthop.id);  // a duplicate stays unused: removed
    }
    IdSet<std::uint32_t> kept;
    if (resilient) {
        boost::unordered_flat_map<RouteKey, std::uint32_t, boost::hash<RouteKey>> installed_group;
        for (const auto& route : installed) {
            if (route.nexthop_id != 0) installed_group.emplace(key_of(route), route.nexthop_id);
        }
        IdAllocator ids(kernel, protocol);
        std::vector<NexthopChange> groups;  // after every member
        // The target holds a group per route and at most one member per hop: reserved, so a
        // cold pass of 20 000 routes does not hold a doubled vector at its peak.
        std::size_t hop_count = 0;
        for (const auto& route : routes) hop_count += route.hops.size();
        plan.target.reserve(routes.size() + hop_count);
        for (auto& route : routes) {
            NexthopGroup group{{}, true, resilient->buckets, resilient->idle_seconds};
            for (const auto& hop : route.hops) {
                auto [it, inserted] = member_of_hop.try_emplace(hop, 0);
                if (inserted) {
                    it->second = ids.take();
                    plan.first.push_back({NexthopChange::Kind::create, Nexthop{it->second, protocol, hop, {}}});
                }
                if (kept.insert(it->second).second) {
                    plan.target.push_back(Nexthop{it->second, protocol, hop, {}});
                }
                group.members.push_back(it->second);
            }
            std::sort(group.members.begin(), group.members.end());
            group.members.erase(std::unique(group.members.begin(), group.members.end()), group.members.end());

            // The installed route's group is reused when the kernel lets us replace it in place.
            const Nexthop* current = nullptr;
            if (const auto named = installed_group.find(key_of(route)); named != installed_group.end()) {
                const auto found = ours.find(named->second);
                if (found != ours.end() && found->second->group && found->second->group->resilient &&
                    found->second->group->buckets == group.buckets && !kept.contains(found->first)) {
                    current = found->second;
                }
            }
            Nexthop wanted{current != nullptr ? current->id : ids.take(), protocol, {}, group};
            if (current == nullptr) {
                groups.push_back({NexthopChange::Kind::create, wanted});
            } else if (!(*current == wanted)) {
                groups.push_back({NexthopChange::Kind::replace, wanted});
            }
            kept.insert(wanted.id);
            route.nexthop_id = wanted.id;
            plan.target.push_back(std::move(wanted));
        }
        plan.first.insert(plan.first.end(), std::make_move_iterator(groups.begin()),
                          std::make_move_iterator(groups.end()));
    } else {
        for (auto& route : routes) route.nexthop_id = 0;
    }
    // Groups go before their members: a member cannot leave a group that still holds it.
    for (const bool groups_pass : {true, false}) {
        for (const auto& nexthop : kernel.ours) {
            if (kept.contains(nexthop.id) || nexthop.group.has_value() != groups_pass) continue;
            plan.last.push_back({NexthopChange::Kind::remove, nexthop});
        }
    }
    std::sort(plan.target.begin(), plan.target.end(), [](const Nexthop& a, const Nexthop& b) { return a.id < b.id; });
    return plan;
}

bool nexthop_event_expected(const Nexthop& nexthop, bool added, const std::vector<Nexthop>& target, int protocol) {
    const auto found = std::lower_bound(target.begin(), target.end(), nexthop.id,
                                        [](const Nexthop& a, std::uint32_t id) { return a.id < id; });
    const bool is_target = found != target.end() && found->id == nexthop.id;
    if (!added) return !is_target;
    if (nexthop.protocol != protocol) return !is_target;  // someone's own object, not one of ours replaced
    return is_target && *found == nexthop;
}

}  // namespace anycast::common::netlink
