#include "reconciler/status.hpp"

#include <fmt/format.h>

#include <set>

namespace anycast::reconciler {

std::string render_status_text(const Plan& plan, const std::vector<common::Record>& records,
                               const ReadinessSnapshot& pods) {
    std::string out = fmt::format("node {}: table {}, protocol {}; readiness {}\n", plan.node, plan.routes.table,
                                  plan.routes.protocol, plan.readiness);
    if (plan.kernel_unreadable) out += fmt::format("kernel routes not readable ({})\n", *plan.kernel_unreadable);

    std::set<std::string> eligible_pods;
    out += fmt::format("records ({}):\n", records.size());
    for (const auto& record : records) {
        std::string ips;
        for (const auto& ip : record.ips) ips += (ips.empty() ? "" : ",") + ip.to_string();
        const std::string why = ineligibility(record, pods);
        const std::string pod = record.pod.namespace_ + "/" + record.pod.name;
        if (why.empty()) eligible_pods.insert(pod);
        out += fmt::format("  {} pod {} ips {}: {}\n", record_name(record), pod, ips.empty() ? "none" : ips,
                           why.empty() ? "eligible" : why);
    }
    out += fmt::format("eligible pods ({}):\n", eligible_pods.size());
    for (const auto& pod : eligible_pods) out += fmt::format("  {}\n", pod);
    out += fmt::format("installed routes ({}):\n", plan.kernel.size());
    for (const auto& route : plan.kernel) out += fmt::format("  {}\n", route);

    const std::size_t changes = plan.replace.size() + plan.remove.size();
    if (changes == 0) {
        out += "in sync\n";
    } else {
        out += fmt::format("out of sync ({}):\n", changes);
        for (const auto& text : plan.replace) out += fmt::format("  missing or different: {}\n", text);
        for (const auto& text : plan.remove) out += fmt::format("  stale: {}\n", text);
    }
    for (const auto& s : plan.skipped) out += fmt::format("skipped: {}: {}\n", s.subject, s.problem);
    return out;
}

}  // namespace anycast::reconciler
