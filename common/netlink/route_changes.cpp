#include "common/netlink/route_changes.hpp"

#include <map>
#include <utility>

namespace anycast::common::netlink {

std::vector<RouteChange> diff_routes(const std::vector<Route>& installed, const std::vector<Route>& desired) {
    using Key = std::pair<std::uint32_t, Prefix>;
    std::map<Key, const Route*> current;
    for (const auto& route : installed) current.emplace(Key{route.table, route.destination}, &route);

    std::vector<RouteChange> changes;
    for (const auto& route : desired) {
        const auto it = current.find(Key{route.table, route.destination});
        if (it == current.end()) {
            changes.push_back(RouteChange{RouteChange::Kind::replace, route});
            continue;
        }
        if (!(*it->second == route)) changes.push_back(RouteChange{RouteChange::Kind::replace, route});
        current.erase(it);
    }
    for (const auto& [key, route] : current) changes.push_back(RouteChange{RouteChange::Kind::remove, *route});
    return changes;
}

}  // namespace anycast::common::netlink
