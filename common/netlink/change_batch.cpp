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

void add(RequestBatch& batch, const RouteChange& change) {
    const bool replace = change.kind == RouteChange::Kind::replace;
    MessageBuilder message(replace ? RTM_NEWROUTE : RTM_DELROUTE, replace ? NLM_F_CREATE | NLM_F_REPLACE : 0,
                           route_message_capacity(change.route));
    build_route_message(message, change.route);
    batch.add(message.header());
}

void add(RequestBatch& batch, const NexthopChange& change) {
    using Kind = NexthopChange::Kind;
    const std::uint16_t flags = change.kind == Kind::create    ? NLM_F_CREATE | NLM_F_EXCL
                                : change.kind == Kind::replace ? NLM_F_REPLACE
                                                               : 0;
    MessageBuilder message(change.kind == Kind::remove ? RTM_DELNEXTHOP : RTM_NEWNEXTHOP, flags,
                           nexthop_message_capacity(change.nexthop));
    build_nexthop_message(message, change.nexthop);
    batch.add(message.header());
}

bool is_remove(const RouteChange& change) { return change.kind == RouteChange::Kind::remove; }
bool is_remove(const NexthopChange& change) { return change.kind == NexthopChange::Kind::remove; }

// Adds each change of `list`; one that cannot be encoded (more hops than an attribute holds)
// fails alone with EMSGSIZE.
template <typename Change>
void add_all(RequestBatch& batch, const std::vector<Change>& list, std::vector<int>& results,
             std::vector<int*>& slots) {
    results.assign(list.size(), 0);
    for (std::size_t i = 0; i < list.size(); ++i) {
        try {
            add(batch, list[i]);
            slots.push_back(&results[i]);
        } catch (const std::length_error&) {
            results[i] = EMSGSIZE;
        }
    }
}

template <typename Change>
void mark_not_found(const std::vector<Change>& list, std::vector<int>& results) {
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (is_remove(list[i]) && is_not_found(results[i])) results[i] = k_not_found;
    }
}

ChangeResults apply(Socket& socket, const std::vector<NexthopChange>& first, const std::vector<RouteChange>& routes,
                    const std::vector<NexthopChange>& last) {
    ChangeResults results;
    RequestBatch batch;
    std::vector<int*> slots;  // where the answer to each batched request goes
    add_all(batch, first, results.nexthops_first, slots);
    add_all(batch, routes, results.routes, slots);
    add_all(batch, last, results.nexthops_last, slots);
    if (batch.empty()) return results;
    const std::vector<int> answers = socket.transact(batch);
    for (std::size_t k = 0; k < slots.size() && k < answers.size(); ++k) *slots[k] = answers[k];
    mark_not_found(first, results.nexthops_first);
    mark_not_found(routes, results.routes);
    mark_not_found(last, results.nexthops_last);
    return results;
}

}  // namespace

ChangeResults apply_kernel_changes(Socket& socket, const KernelChanges& changes) {
    return apply(socket, changes.nexthops_first, changes.routes, changes.nexthops_last);
}

std::vector<int> apply_route_changes(Socket& socket, const std::vector<RouteChange>& changes) {
    return apply(socket, {}, changes, {}).routes;
}

}  // namespace anycast::common::netlink
