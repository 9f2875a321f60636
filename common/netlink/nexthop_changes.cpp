#include "common/netlink/nexthop_changes.hpp"

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

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

// Our objects by id, found by bisection over pointers: 8 bytes an object where a hash table
// of 40 000 took 1 MB.
class ObjectsById {
public:
    explicit ObjectsById(const std::vector<Nexthop>& ours) {
        sorted_.reserve(ours.size());
        for (const auto& nexthop : ours) sorted_.push_back(&nexthop);
        std::sort(sorted_.begin(), sorted_.end(), [](const Nexthop* a, const Nexthop* b) { return a->id < b->id; });
    }
    const Nexthop* find(std::uint32_t id) const {
        const auto found = std::lower_bound(sorted_.begin(), sorted_.end(), id,
                                            [](const Nexthop* a, std::uint32_t b) { return a->id < b; });
        return found != sorted_.end() && (*found)->id == id ? *found : nullptr;
    }

private:
    std::vector<const Nexthop*> sorted_;
};

// The group each installed route names, looked up by route key through a sorted index.
class InstalledGroups {
public:
    explicit InstalledGroups(const std::vector<Route>& installed) : installed_(installed) {
        for (std::uint32_t i = 0; i < installed.size(); ++i) {
            if (installed[i].nexthop_id != 0) order_.push_back(i);
        }
        // Stable: of a key installed twice the first counts, as in the hash table this replaced.
        std::stable_sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
            return route_key(installed[a]) < route_key(installed[b]);
        });
    }
    // 0 when the route is not installed or names no object.
    std::uint32_t of(const Route& route) const {
        const RouteKey key = route_key(route);
        const auto found = std::lower_bound(order_.begin(), order_.end(), key, [&](std::uint32_t i, const RouteKey& k) {
            return route_key(installed_[i]) < k;
        });
        return found != order_.end() && route_key(installed_[*found]) == key ? installed_[*found].nexthop_id : 0;
    }

private:
    const std::vector<Route>& installed_;
    std::vector<std::uint32_t> order_;
};

}  // namespace

NexthopPlan plan_nexthops(std::vector<Route>& routes, const std::vector<Route>& installed, const NexthopTable& kernel,
                          int protocol, const std::optional<ResilientGroupSettings>& resilient) {
    NexthopPlan plan;
    IdSet<std::uint32_t> kept;
    if (resilient) {
        struct Member {
            std::uint32_t id;
            bool to_create;
        };
        boost::unordered_flat_map<NextHop, Member, NextHopHash> member_of_hop;
        for (const auto& nexthop : kernel.ours) {
            if (nexthop.hop) member_of_hop.emplace(*nexthop.hop, Member{nexthop.id, false});  // a duplicate: removed
        }
        const auto group_of = [&](const Route& route) {
            NexthopGroup group{{}, true, resilient->buckets, resilient->idle_seconds};
            group.members.reserve(route.hops.size());
            for (const auto& hop : route.hops) group.members.push_back(member_of_hop.find(hop)->second.id);
            std::sort(group.members.begin(), group.members.end());
            group.members.erase(std::unique(group.members.begin(), group.members.end()), group.members.end());
            return group;
        };
        // First the ids (in the order of the routes, a route's members before its group) and
        // the number of changes, so the list is reserved once: grown by doubling it held up to
        // twice its 40 000 entries of a cold pass.
        const InstalledGroups installed_group(installed);
        const ObjectsById ours(kernel.ours);
        IdAllocator ids(kernel, protocol);
        std::size_t new_members = 0, changes = 0;
        for (auto& route : routes) {
            for (const auto& hop : route.hops) {
                auto [it, inserted] = member_of_hop.try_emplace(hop, Member{0, true});
                if (inserted) {
                    it->second.id = ids.take();
                    ++new_members;
                    ++changes;
                }
                kept.insert(it->second.id);
            }
            // The installed route's group is reused when the kernel lets us replace it in place.
            const Nexthop* current = nullptr;
            if (const std::uint32_t named = installed_group.of(route); named != 0) {
                const Nexthop* found = ours.find(named);
                if (found != nullptr && found->group && found->group->resilient &&
                    found->group->buckets == resilient->buckets && !kept.contains(found->id)) {
                    current = found;
                }
            }
            if (current == nullptr || !(*current->group == group_of(route))) ++changes;
            route.nexthop_id = current != nullptr ? current->id : ids.take();
            kept.insert(route.nexthop_id);
        }
        // Then the changes: new members, then new and replaced groups (a fresh id is never
        // one of the kernel's).
        plan.first.reserve(changes);
        for (std::size_t i = 0; i < routes.size() && plan.first.size() < new_members; ++i) {
            for (const auto& hop : routes[i].hops) {
                Member& member = member_of_hop.find(hop)->second;
                if (!std::exchange(member.to_create, false)) continue;
                plan.first.push_back({NexthopChange::Kind::create, Nexthop{member.id, protocol, hop, {}}});
            }
        }
        for (std::size_t i = 0; i < routes.size() && plan.first.size() < changes; ++i) {
            const Nexthop* current = ours.find(routes[i].nexthop_id);
            NexthopGroup group = group_of(routes[i]);
            if (current != nullptr && *current->group == group) continue;
            plan.first.push_back({current == nullptr ? NexthopChange::Kind::create : NexthopChange::Kind::replace,
                                  Nexthop{routes[i].nexthop_id, protocol, {}, std::move(group)}});
        }
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
    return plan;
}

std::vector<Nexthop> nexthops_after(const std::vector<Nexthop>& ours, NexthopPlan& plan) {
    std::vector<NexthopChange>& changed = plan.first;
    const auto by_id = [](const NexthopChange& a, const NexthopChange& b) { return a.nexthop.id < b.nexthop.id; };
    std::sort(changed.begin(), changed.end(), by_id);
    std::vector<std::uint32_t> removed;
    removed.reserve(plan.last.size());
    for (const auto& change : plan.last) removed.push_back(change.nexthop.id);
    std::sort(removed.begin(), removed.end());
    const auto is_changed = [&](std::uint32_t id) {
        const auto found = std::lower_bound(changed.begin(), changed.end(), id,
                                            [](const NexthopChange& a, std::uint32_t b) { return a.nexthop.id < b; });
        return found != changed.end() && found->nexthop.id == id;
    };
    std::vector<Nexthop> after;
    after.reserve(ours.size() - std::min(ours.size(), removed.size()) + changed.size());
    for (const auto& nexthop : ours) {
        if (!is_changed(nexthop.id) && !std::binary_search(removed.begin(), removed.end(), nexthop.id))
            after.push_back(nexthop);
    }
    for (auto& change : changed) after.push_back(std::move(change.nexthop));
    changed.clear();
    std::sort(after.begin(), after.end(), [](const Nexthop& a, const Nexthop& b) { return a.id < b.id; });
    return after;
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
