#include "reconciler/cli/status.hpp"

#include "reconciler/metrics/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace anycast::reconciler {

namespace {

constexpr const char* k_not_exported = "n/a";

class Samples {
public:
    explicit Samples(const std::map<std::string, double>& samples) : samples_(samples) {}

    std::optional<double> get(const std::string& series) const {
        const auto found = samples_.find(series);
        return found == samples_.end() ? std::nullopt : std::optional<double>(found->second);
    }
    // A count as a whole number, or "n/a".
    std::string count(const std::string& series) const {
        const auto value = get(series);
        return value ? fmt::format("{:.0f}", *value) : k_not_exported;
    }
    std::string by_family(const std::string& name) const {
        return fmt::format("ipv4 {}, ipv6 {}", count(name + "{family=\"ipv4\"}"), count(name + "{family=\"ipv6\"}"));
    }
    std::string by_result(const std::string& name) const {
        return fmt::format("{} ok, {} failed", count(name + "{result=\"success\"}"),
                           count(name + "{result=\"failure\"}"));
    }

private:
    const std::map<std::string, double>& samples_;
};

std::string age_text(double seconds) {
    seconds = std::max(seconds, 0.0);
    if (seconds < 60) return fmt::format("{:.1f} s ago", seconds);
    const auto whole = static_cast<long long>(seconds);
    if (whole < 3600) return fmt::format("{} min {} s ago", whole / 60, whole % 60);
    return fmt::format("{} h {} min ago", whole / 3600, whole % 3600 / 60);
}

// "drained, changed 12.5 s ago; reasons: cordon, manual" from the drain series.
std::string drain_text(const Samples& s, double unix_now) {
    const auto state = s.get("flock_anycast_drain_state");
    if (!state) return k_not_exported;
    constexpr const char* k_states[] = {"announcing", "draining", "drained"};
    std::string text = k_states[std::clamp(static_cast<int>(*state), 0, 2)];
    if (const auto since = s.get("flock_anycast_drain_state_since_timestamp_seconds"); since && *since > 0)
        text += ", changed " + age_text(unix_now - *since);
    std::string causes;
    for (const auto& cause : k_drain_cause_labels) {
        if (s.get("flock_anycast_drain_reasons{cause=\"" + cause + "\"}").value_or(0) > 0)
            causes += (causes.empty() ? "" : ", ") + cause;
    }
    if (!causes.empty()) text += "; reasons: " + causes + " (flock-anycast drain-status for more)";
    return text;
}

// Whether the drain follows the Node object: 0 means off, or not listed yet (the log says which).
std::string node_watch_text(const Samples& s) {
    const auto synced = s.get("flock_anycast_node_watch_synced");
    if (!synced) return k_not_exported;
    return fmt::format("{}, {} failures", *synced > 0 ? "listed" : "off or not listed yet",
                       s.count("flock_anycast_node_watch_failures_total"));
}

}  // namespace

StatusFigures figures_from_serve(const std::string& where, const std::map<std::string, double>& samples,
                                 const std::optional<std::string>& readyz, double unix_now) {
    const Samples s(samples);
    StatusFigures figures;
    figures.source = fmt::format("figures from the running serve ({}):", where);
    std::string last_pass = k_not_exported;
    if (const auto stamp = s.get("flock_anycast_last_successful_pass_timestamp_seconds")) {
        last_pass = *stamp <= 0 ? "none yet" : age_text(unix_now - *stamp);
    }
    figures.rows = {
        {"readiness", readyz ? *readyz : "unknown (/readyz did not answer)"},
        {"reconcile passes", s.by_result("flock_anycast_reconcile_passes_total")},
        {"last successful pass", last_pass},
        {"routes installed", s.by_family("flock_anycast_routes_installed")},
        {"next hops", s.by_family("flock_anycast_nexthops")},
        {"records", s.count("flock_anycast_records")},
        {"eligible pods", s.count("flock_anycast_eligible_pods")},
        {"netlink errors", s.count("flock_anycast_netlink_errors_total")},
        {"bird reloads", s.by_result("flock_anycast_bird_reloads_total")},
        {"kube watch restarts", s.count("flock_anycast_kube_watch_restarts_total")},
        {"kube relists", s.count("flock_anycast_kube_relists_total")},
        {"node watch", node_watch_text(s)},
        {"drain", drain_text(s, unix_now)},
    };
    return figures;
}

StatusFigures figures_from_kernel(const std::string& why, const Plan& plan,
                                  const std::vector<common::netlink::Route>& kernel) {
    StatusFigures figures;
    figures.source = fmt::format("{}; figures from the kernel and the records:", why);
    std::string routes = "unknown (kernel routes not readable)";
    std::string hops = routes;
    if (!plan.kernel_unreadable) {
        const common::netlink::RouteCounts counts = common::netlink::count_by_family(kernel);
        routes = fmt::format("ipv4 {}, ipv6 {}", counts.v4.routes, counts.v6.routes);
        hops = fmt::format("ipv4 {}, ipv6 {}", counts.v4.hops, counts.v6.hops);
    }
    figures.rows = {
        {"routes installed", routes},
        {"next hops", hops},
        {"records", std::to_string(plan.records)},
        {"eligible pods", std::to_string(plan.eligible_records)},
    };
    return figures;
}

std::string render_figures(const StatusFigures& figures) {
    std::size_t width = 0;
    for (const auto& row : figures.rows) width = std::max(width, row.name.size());
    std::string out = figures.source + "\n";
    for (const auto& row : figures.rows) out += fmt::format("  {:<{}}  {}\n", row.name, width, row.value);
    return out;
}

std::string render_status_text(const Plan& plan, const std::vector<common::Record>& records,
                               const ReadinessSnapshot& pods, const StatusFigures& figures) {
    std::string out = fmt::format("node {}: table {}, protocol {}; readiness {}\n", plan.node, plan.routes.table,
                                  plan.routes.protocol, plan.readiness);
    out += render_figures(figures);
    if (plan.kernel_unreadable) out += fmt::format("kernel routes not readable ({})\n", *plan.kernel_unreadable);

    std::set<std::string> eligible_pods;
    out += fmt::format("records ({}):\n", records.size());
    for (const auto& record : records) {
        const std::string ips = fmt::format("{}", fmt::join(record.ips, ","));
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
