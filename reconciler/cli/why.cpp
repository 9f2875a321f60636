#include "reconciler/cli/why.hpp"

#include "common/config/policy.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/pipeline/route_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <sstream>

namespace anycast::reconciler {

namespace {

// The include's `define FLOCK_ANYCAST_Vx = [ ... ];` line lists `prefix`.
bool include_lists(const std::string& include, const common::Prefix& prefix) {
    const std::string set = prefix.family() == common::Family::v4 ? k_bird_set_v4 : k_bird_set_v6;
    std::istringstream lines(include);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("define " + set + " ", 0) != 0) continue;
        const std::string text = prefix.to_string();
        for (auto at = line.find(text); at != std::string::npos; at = line.find(text, at + 1)) {
            const char before = line[at - 1];
            const char after = at + text.size() < line.size() ? line[at + text.size()] : ' ';
            if ((before == ' ' || before == '[') && (after == ',' || after == ' ')) return true;
        }
    }
    return false;
}

std::string pod_text(const common::PodRef& pod) {
    if (pod.name.empty()) return "no pod identity";
    return "pod " + pod.namespace_ + "/" + pod.name + (pod.uid.empty() ? "" : " (uid " + pod.uid + ")");
}

}  // namespace

bool bird_lists_route(const std::string& reply_text, const common::Prefix& prefix) {
    std::istringstream lines(reply_text);
    for (std::string line; std::getline(lines, line);) {
        const auto start = line.find_first_not_of(' ');
        if (start != std::string::npos &&
            line.compare(start, prefix.to_string().size() + 1, prefix.to_string() + " ") == 0) {
            return true;
        }
    }
    return false;
}

std::string render_why(const WhyInputs& in) {
    const common::Prefix prefix = common::Prefix::host(in.ip);
    const PlanInputs& inputs = in.plan_inputs;
    std::string out = prefix.to_string() + "\n";
    auto line = std::back_inserter(out);

    std::vector<const common::Record*> asking;
    for (const auto& record : inputs.records) {
        if (std::find(record.ips.begin(), record.ips.end(), in.ip) != record.ips.end()) asking.push_back(&record);
    }
    fmt::format_to(line, "  asked for by {} record{}\n", asking.size(), asking.size() == 1 ? "" : "s");
    for (const auto* record : asking) {
        const std::string why_not = ineligibility(*record, inputs.pods);
        fmt::format_to(line, "    {}: {}, {}\n", record_name(*record), pod_text(record->pod),
                       why_not.empty() ? "eligible" : "not eligible: " + why_not);
        const auto refusal = common::policy_refusal(inputs.config.policy, record->pod.namespace_, in.ip);
        if (refusal) fmt::format_to(line, "      policy refuses it: {}\n", *refusal);
        for (const auto& hop : record->nexthops) {
            if (hop.via.family() != in.ip.family()) continue;
            fmt::format_to(line, "      next hop via {} dev {}\n", hop.via.to_string(), hop.host_iface);
        }
    }
    for (const auto& skipped : in.plan.skipped) {
        // resolve's "<ip> skipped: ..." of a record, or desired_diff's hop left out of the route
        // (subject: the prefix). A substring match would take 10.255.53.5 for 10.255.53.53.
        if (skipped.problem.starts_with(in.ip.to_string() + " skipped: ") || skipped.subject == prefix.to_string()) {
            fmt::format_to(line, "  skipped: {}: {}\n", skipped.subject, skipped.problem);
        }
    }

    const auto desired = std::find_if(in.plan.desired.begin(), in.plan.desired.end(),
                                      [&](const DesiredRoute& route) { return route.destination == prefix; });
    fmt::format_to(line, "  desired route: {}\n", desired == in.plan.desired.end() ? "none" : route_text(*desired));
    if (inputs.kernel_unreadable) {
        fmt::format_to(line, "  kernel route: unknown ({})\n", *inputs.kernel_unreadable);
    } else {
        const auto installed =
            std::find_if(inputs.kernel.begin(), inputs.kernel.end(),
                         [&](const common::netlink::Route& route) { return route.destination == prefix; });
        fmt::format_to(line, "  kernel route (table {}, protocol {}): {}\n", inputs.config.routes.table,
                       inputs.config.routes.protocol,
                       installed == inputs.kernel.end() ? "none" : route_text(*installed, inputs.links));
    }

    if (!in.bird) {
        out += "  BIRD: bird.enabled is false\n";
        return out;
    }
    if (in.include_on_disk) {
        fmt::format_to(line, "  include {}: {}\n", inputs.config.bird.fragment,
                       include_lists(*in.include_on_disk, prefix) ? "lists it" : "does not list it");
    } else {
        fmt::format_to(line, "  include {}: unreadable ({})\n", inputs.config.bird.fragment, in.include_error);
    }
    const BirdView& bird = *in.bird;
    if (bird.error) {
        fmt::format_to(line, "  BIRD on {}: not asked ({})\n", inputs.config.bird.socket, *bird.error);
        return out;
    }
    fmt::format_to(line, "  BIRD table {}: {}\n", bird.table, bird.learnt ? "learnt" : "not learnt");
    for (const auto& [session, exported] : bird.exports) {
        fmt::format_to(line, "  BIRD session {}: {}\n", session, exported ? "exported" : "not exported");
    }
    return out;
}

}  // namespace anycast::reconciler
