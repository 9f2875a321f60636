#include "reconciler/serve/kernel_routes.hpp"

#include "common/log.hpp"
#include "common/netlink/change_batch.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/nexthop_message.hpp"
#include "common/netlink/rule.hpp"
#include "reconciler/pipeline/route_text.hpp"

#include <cstring>
#include <span>

namespace anycast::reconciler {

namespace log = common::log;
namespace netlink = common::netlink;

namespace {

constexpr std::uint32_t k_main_table = 254;

const char* kind_name(netlink::RouteChange::Kind kind) {
    return kind == netlink::RouteChange::Kind::replace ? "replace" : "delete";
}

const char* kind_name(netlink::NexthopChange::Kind kind) {
    using Kind = netlink::NexthopChange::Kind;
    return kind == Kind::create ? "create" : kind == Kind::replace ? "replace" : "delete";
}

std::string error_text(int result) { return result == netlink::k_not_found ? "not found" : std::strerror(result); }

// Logs each nexthop change's outcome; returns the refusals.
std::size_t log_nexthop_results(const std::vector<netlink::NexthopChange>& changes, std::span<const int> results) {
    std::size_t errors = 0;
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const auto& change = changes[i];
        const int result = i < results.size() ? results[i] : EIO;
        const std::string text = netlink::describe_nexthop(change.nexthop);
        if (result == 0) {
            log::info("nexthop changed", {log::kv("op", kind_name(change.kind)), log::kv("nexthop", text)});
        } else if (result == netlink::k_not_found && change.kind == netlink::NexthopChange::Kind::remove) {
            log::info("nexthop already gone", {log::kv("nexthop", text)});
        } else {
            ++errors;
            log::error("nexthop change refused", {log::kv("op", kind_name(change.kind)), log::kv("nexthop", text),
                                                  log::kv("error", error_text(result))});
        }
    }
    return errors;
}

}  // namespace

KernelView read_kernel(netlink::Socket& socket, const common::RouteSettings& settings, const KernelSizes& expected) {
    KernelView view;
    view.links = LinkTable(netlink::list_links(socket));
    view.routes = netlink::dump_routes(socket, settings.table, settings.protocol, expected.routes);
    view.nexthops = netlink::dump_nexthops(socket, settings.protocol, expected.nexthops);
    return view;
}

ApplyOutcome apply_changes(netlink::Socket& socket, const RouteDiff& diff, const LinkTable& links) {
    ApplyOutcome outcome;
    if (diff.no_changes()) return outcome;
    // The batch reads the diff's own lists (copying them into one list of changes was 5 MB
    // of a cold pass with 20 000 resilient routes).
    const std::size_t first = diff.nexthops_first.size(), routes = diff.route_change_count();
    std::vector<int> results =
        netlink::apply_changes(socket, diff.change_count(), [&](std::size_t i) -> netlink::ChangeRef {
            if (i < first)
                return netlink::NexthopChangeRef{diff.nexthops_first[i].kind, &diff.nexthops_first[i].nexthop};
            if (i < first + routes) return diff.route_change(i - first);
            const auto& last = diff.nexthops_last[i - first - routes];
            return netlink::NexthopChangeRef{last.kind, &last.nexthop};
        });
    const std::span<const int> all(results);
    outcome.results.assign(all.begin() + static_cast<std::ptrdiff_t>(first),
                           all.begin() + static_cast<std::ptrdiff_t>(first + routes));
    const log::Batch batch;  // one line per change, written together
    outcome.errors += log_nexthop_results(diff.nexthops_first, all.first(first));
    outcome.errors += log_nexthop_results(diff.nexthops_last, all.subspan(first + routes));
    for (std::size_t i = 0; i < routes; ++i) {
        const auto change = diff.route_change(i);
        const int result = i < outcome.results.size() ? outcome.results[i] : EIO;
        const std::string text = route_text(*change.route, links);
        if (result == 0) {
            log::info("route changed", {log::kv("op", kind_name(change.kind)), log::kv("route", text)});
        } else if (result == netlink::k_not_found && change.kind == netlink::RouteChange::Kind::remove) {
            log::info("route already gone", {log::kv("route", text)});
        } else {
            ++outcome.errors;
            log::error("route change refused",
                       {log::kv("op", kind_name(change.kind)), log::kv("route", text),
                        log::kv("table", change.route->table), log::kv("error", error_text(result))});
        }
    }
    return outcome;
}

void log_nexthop_dry_run(const RouteDiff& diff) {
    for (const auto* list : {&diff.nexthops_first, &diff.nexthops_last}) {
        for (const auto& change : *list) {
            log::info("dry run: would change nexthop", {log::kv("op", kind_name(change.kind)),
                                                        log::kv("nexthop", netlink::describe_nexthop(change.nexthop))});
        }
    }
}

std::size_t withdraw_all(netlink::Socket& socket, const common::RouteSettings& settings) {
    KernelView view = read_kernel(socket, settings);
    RouteDiff diff;
    diff.removed = std::move(view.routes);
    // Groups before their members; removing a member first would shrink the group in place.
    for (const bool groups : {true, false}) {
        for (const auto& nexthop : view.nexthops.ours) {
            if (nexthop.group.has_value() == groups)
                diff.nexthops_last.push_back({netlink::NexthopChange::Kind::remove, nexthop});
        }
    }
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
