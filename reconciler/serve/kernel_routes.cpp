#include "reconciler/serve/kernel_routes.hpp"

#include "common/log.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/rule.hpp"
#include "reconciler/pipeline/route_text.hpp"

#include <cstring>

namespace anycast::reconciler {

namespace log = common::log;
namespace netlink = common::netlink;

namespace {

constexpr std::uint32_t k_main_table = 254;

const char* kind_name(netlink::RouteChange::Kind kind) {
    return kind == netlink::RouteChange::Kind::replace ? "replace" : "delete";
}

}  // namespace

KernelView read_kernel(netlink::Socket& socket, const common::RouteSettings& settings) {
    KernelView view;
    view.links = LinkTable(netlink::list_links(socket));
    view.routes = netlink::dump_routes(socket, settings.table, settings.protocol);
    return view;
}

ApplyOutcome apply_changes(netlink::Socket& socket, const RouteDiff& diff, const LinkTable& links) {
    ApplyOutcome outcome;
    if (diff.changes.empty()) return outcome;
    outcome.results = netlink::apply_route_changes(socket, diff.changes);
    const log::Batch batch;  // one line per change, written together
    for (std::size_t i = 0; i < diff.changes.size(); ++i) {
        const auto& change = diff.changes[i];
        const int result = i < outcome.results.size() ? outcome.results[i] : EIO;
        const std::string text = route_text(change.route, links);
        if (result == 0) {
            log::info("route changed", {log::kv("op", kind_name(change.kind)), log::kv("route", text)});
        } else if (result == netlink::k_not_found && change.kind == netlink::RouteChange::Kind::remove) {
            log::info("route already gone", {log::kv("route", text)});
        } else {
            ++outcome.errors;
            log::error(
                "route change refused",
                {log::kv("op", kind_name(change.kind)), log::kv("route", text), log::kv("table", change.route.table),
                 log::kv("error", result == netlink::k_not_found ? "not found" : std::strerror(result))});
        }
    }
    return outcome;
}

std::size_t withdraw_all(netlink::Socket& socket, const common::RouteSettings& settings) {
    const KernelView view = read_kernel(socket, settings);
    RouteDiff diff;
    for (const auto& route : view.routes) diff.changes.push_back({netlink::RouteChange::Kind::remove, route});
    const ApplyOutcome outcome = apply_changes(socket, diff, view.links);
    std::size_t removed = 0;
    for (const int result : outcome.results) removed += result == 0 ? 1 : 0;
    return removed;
}

bool needs_rule(const common::RouteSettings& settings) { return settings.table != k_main_table; }

namespace {

template <typename Op>
bool for_each_family(const common::RouteSettings& settings, const char* what, Op op) {
    if (!needs_rule(settings)) return true;
    bool ok = true;
    for (const auto family : {common::Family::v4, common::Family::v6}) {
        try {
            op(family);
        } catch (const std::exception& e) {
            ok = false;
            log::warn(what,
                      {log::kv("family", common::family_number(family)), log::kv("priority", settings.rule_priority),
                       log::kv("table", settings.table), log::kv("error", e.what())});
        }
    }
    return ok;
}

}  // namespace

bool ensure_rules(netlink::Socket& socket, const common::RouteSettings& settings) {
    return for_each_family(settings, "cannot add the rule for our table", [&](common::Family family) {
        netlink::ensure_rule(socket, family, settings.rule_priority, settings.table);
    });
}

bool remove_rules(netlink::Socket& socket, const common::RouteSettings& settings) {
    return for_each_family(settings, "cannot remove the rule for our table", [&](common::Family family) {
        netlink::remove_rule(socket, family, settings.rule_priority, settings.table);
    });
}

}  // namespace anycast::reconciler
