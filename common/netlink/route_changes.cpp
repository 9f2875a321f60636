#include "common/netlink/route_changes.hpp"

#include <map>
#include <tuple>

namespace anycast::common::netlink {

bool same_route(const Route& installed, const Route& desired) {
    return installed.table == desired.table && installed.destination == desired.destination &&
           installed.priority == desired.priority && installed.protocol == desired.protocol &&
           installed.nexthop_id == desired.nexthop_id && (desired.nexthop_id != 0 || installed.hops == desired.hops);
}

std::vector<RouteChange> diff_routes(const std::vector<Route>& installed, const std::vector<Route>& desired) {
    using Key = std::tuple<std::uint32_t, Prefix, std::uint32_t>;
    std::map<Key, const Route*> current;
    for (const auto& route : installed) current.emplace(Key{route.table, route.destination, route.priority}, &route);

    std::vector<RouteChange> changes;
    for (const auto& route : desired) {
        const auto it = current.find(Key{route.table, route.destination, route.priority});
        if (it == current.end()) {
            changes.push_back(RouteChange{RouteChange::Kind::replace, route});
            continue;
        }
        if (!same_route(*it->second, route)) changes.push_back(RouteChange{RouteChange::Kind::replace, route});
        current.erase(it);
    }
    for (const auto& [key, route] : current) changes.push_back(RouteChange{RouteChange::Kind::remove, *route});
    return changes;
}

}  // namespace anycast::common::netlink
