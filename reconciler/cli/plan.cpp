#include "reconciler/cli/plan.hpp"

#include "common/netlink/nexthop_message.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/pipeline/route_text.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace anycast::reconciler {

namespace json = boost::json;
namespace netlink = common::netlink;

Plan make_plan(const PlanInputs& in) {
    Plan plan;
    plan.node = in.config.node;
    plan.routes = in.config.routes;
    plan.readiness = in.readiness;
    plan.records = in.records.size();
    plan.kernel_unreadable = in.kernel_unreadable;

    Resolved resolved = resolve(in.records, in.pods, in.config.policy);
    plan.eligible_records = resolved.eligible_records;
    const RouteDiff diff = diff_desired(resolved.routes, in.kernel, in.links, in.config.routes, in.nexthops);
    plan.desired = std::move(resolved.routes);
    plan.skipped = std::move(resolved.skipped);
    plan.skipped.insert(plan.skipped.end(), diff.skipped.begin(), diff.skipped.end());

    std::vector<const netlink::Route*> kernel;
    for (const auto& route : in.kernel) kernel.push_back(&route);
    // Dump order is the kernel's business; the plan is read (and compared) by people.
    std::sort(kernel.begin(), kernel.end(),
              [](const auto* a, const auto* b) { return a->destination < b->destination; });
    for (const auto* route : kernel) plan.kernel.push_back(route_text(*route, in.links));
    for (std::size_t i = 0; i < diff.route_change_count(); ++i) {
        const auto change = diff.route_change(i);
        auto& list = change.kind == netlink::RouteChange::Kind::replace ? plan.replace : plan.remove;
        list.push_back(route_text(*change.route, in.links));
    }
    // Nexthop objects (resilient groups) count as changes too: `status` is out of sync then.
    for (const auto* changes : {&diff.nexthops_first, &diff.nexthops_last}) {
        for (const auto& change : *changes) {
            auto& list = change.kind == netlink::NexthopChange::Kind::remove ? plan.remove : plan.replace;
            const char* kind = change.kind == netlink::NexthopChange::Kind::create ? "create " : "";
            list.push_back(fmt::format("nexthop {}{}", kind, netlink::describe_nexthop(change.nexthop)));
        }
    }
    if (in.config.bird.enabled) {
        std::vector<common::Prefix> prefixes;
        for (const auto& route : diff.target) prefixes.push_back(route.destination);
        plan.bird_path = in.config.bird.fragment;
        plan.bird_fragment = render_bird_sets(std::move(prefixes), render_bird_attributes(in.config.bgp));
    }
    return plan;
}

namespace {

void section(std::string& out, std::string_view title, const std::vector<std::string>& lines) {
    out += fmt::format("{} ({}):\n", title, lines.size());
    for (const auto& line : lines) out += fmt::format("  {}\n", line);
}

}  // namespace

std::string render_plan_text(const Plan& plan) {
    std::string out =
        fmt::format("node {}: table {}, protocol {}; {} records, {} eligible; readiness {}\n", plan.node,
                    plan.routes.table, plan.routes.protocol, plan.records, plan.eligible_records, plan.readiness);
    if (plan.kernel_unreadable) {
        out +=
            fmt::format("kernel routes not readable ({}): diffing against an empty table\n", *plan.kernel_unreadable);
    }
    std::vector<std::string> desired;
    for (const auto& route : plan.desired) desired.push_back(route_text(route));
    section(out, "desired routes", desired);
    section(out, "kernel routes of ours", plan.kernel);
    std::vector<std::string> changes;
    for (const auto& text : plan.replace) changes.push_back("replace " + text);
    for (const auto& text : plan.remove) changes.push_back("delete " + text);
    if (changes.empty()) {
        out += "changes: none\n";
    } else {
        section(out, "changes", changes);
    }
    std::vector<std::string> skipped;
    for (const auto& s : plan.skipped) skipped.push_back(s.subject + ": " + s.problem);
    if (!skipped.empty()) section(out, "skipped", skipped);
    if (plan.bird_path) {
        out += fmt::format("bird include {}:\n", *plan.bird_path);
        std::string_view text = plan.bird_fragment;
        while (!text.empty()) {
            const auto end = text.find('\n');
            out += fmt::format("  {}\n", text.substr(0, end));
            if (end == std::string_view::npos) break;
            text.remove_prefix(end + 1);
        }
    }
    return out;
}

json::value plan_to_json(const Plan& plan) {
    json::object out;
    out["node"] = plan.node;
    out["table"] = plan.routes.table;
    out["protocol"] = plan.routes.protocol;
    out["readiness"] = plan.readiness;
    out["records"] = plan.records;
    out["eligibleRecords"] = plan.eligible_records;
    out["kernelReadable"] = !plan.kernel_unreadable.has_value();
    if (plan.kernel_unreadable) out["kernelError"] = *plan.kernel_unreadable;
    json::array desired;
    for (const auto& route : plan.desired) {
        json::array hops;
        for (const auto& hop : route.hops)
            hops.push_back(json::object{{"via", hop.via.to_string()}, {"dev", hop.iface}});
        desired.push_back(json::object{{"destination", route.destination.to_string()}, {"nexthops", std::move(hops)}});
    }
    out["desired"] = std::move(desired);
    auto strings = [](const std::vector<std::string>& list) { return json::array(list.begin(), list.end()); };
    out["kernel"] = strings(plan.kernel);
    out["replace"] = strings(plan.replace);
    out["delete"] = strings(plan.remove);
    json::array skipped;
    for (const auto& s : plan.skipped) skipped.push_back(json::object{{"subject", s.subject}, {"problem", s.problem}});
    out["skipped"] = std::move(skipped);
    if (plan.bird_path) out["bird"] = json::object{{"path", *plan.bird_path}, {"text", plan.bird_fragment}};
    return out;
}

}  // namespace anycast::reconciler
