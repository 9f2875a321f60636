#include "common/netlink/change_batch.hpp"

#include "common/netlink/message.hpp"
#include "common/netlink/nexthop_message.hpp"
#include "common/netlink/route_message.hpp"

#include <linux/rtnetlink.h>

#include <cerrno>
#include <stdexcept>

namespace anycast::common::netlink {

namespace {

bool is_not_found(int error) { return error == ESRCH || error == ENOENT; }

void add(RequestBatch& batch, const RouteChangeRef& change) {
    const bool replace = change.kind == RouteChange::Kind::replace;
    MessageBuilder message(replace ? RTM_NEWROUTE : RTM_DELROUTE, replace ? NLM_F_CREATE | NLM_F_REPLACE : 0,
                           route_message_capacity(*change.route));
    build_route_message(message, *change.route);
    batch.add(message.header());
}

void add(RequestBatch& batch, const NexthopChangeRef& change) {
    using Kind = NexthopChange::Kind;
    const std::uint16_t flags = change.kind == Kind::create    ? NLM_F_CREATE | NLM_F_EXCL
                                : change.kind == Kind::replace ? NLM_F_REPLACE
                                                               : 0;
    MessageBuilder message(change.kind == Kind::remove ? RTM_DELNEXTHOP : RTM_NEWNEXTHOP, flags,
                           nexthop_message_capacity(*change.nexthop));
    build_nexthop_message(message, *change.nexthop);
    batch.add(message.header());
}

bool is_remove(const ChangeRef& change) {
    if (const auto* route = std::get_if<RouteChangeRef>(&change)) return route->kind == RouteChange::Kind::remove;
    return std::get<NexthopChangeRef>(change).kind == NexthopChange::Kind::remove;
}

}  // namespace

std::vector<int> apply_changes(Socket& socket, std::size_t count,
                               const std::function<ChangeRef(std::size_t)>& change_at) {
    std::vector<std::size_t> oversized;
    std::vector<int> results = socket.transact(count, [&](std::size_t i, RequestBatch& batch) {
        try {
            std::visit([&](const auto& change) { add(batch, change); }, change_at(i));
            return true;
        } catch (const std::length_error&) {
            oversized.push_back(i);
            return false;
        }
    });
    for (const std::size_t i : oversized) results[i] = EMSGSIZE;
    for (std::size_t i = 0; i < count; ++i) {
        if (is_not_found(results[i]) && is_remove(change_at(i))) results[i] = k_not_found;
    }
    return results;
}

ChangeResults apply_kernel_changes(Socket& socket, const KernelChanges& changes) {
    const std::size_t first = changes.nexthops_first.size(), routes = changes.routes.size();
    std::vector<int> all = apply_changes(socket, changes.size(), [&](std::size_t i) -> ChangeRef {
        if (i < first) return NexthopChangeRef{changes.nexthops_first[i].kind, &changes.nexthops_first[i].nexthop};
        if (i < first + routes) return RouteChangeRef{changes.routes[i - first].kind, &changes.routes[i - first].route};
        const auto& last = changes.nexthops_last[i - first - routes];
        return NexthopChangeRef{last.kind, &last.nexthop};
    });
    const auto at = [&](std::size_t i) { return all.begin() + static_cast<std::ptrdiff_t>(i); };
    return {{at(0), at(first)}, {at(first), at(first + routes)}, {at(first + routes), all.end()}};
}

std::vector<int> apply_route_changes(Socket& socket, const std::vector<RouteChange>& changes) {
    return apply_changes(socket, changes.size(), [&](std::size_t i) -> ChangeRef {
        return RouteChangeRef{changes[i].kind, &changes[i].route};
    });
}

}  // namespace anycast::common::netlink
