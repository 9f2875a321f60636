#include "reconciler/serve/pod_report_plan.hpp"

#include <fmt/format.h>

#include <set>

namespace anycast::reconciler {

namespace {

using common::kube::PodEvent;
using common::kube::PodIdentity;

// The condition a gated pod should carry; nullopt while pending (BIRD still taking it in):
// neither True yet nor a withdrawal.
std::optional<bool> wanted_condition(const PodAnnouncement& announcement) {
    switch (announcement.state) {
        case AnnouncementState::announced: return true;
        case AnnouncementState::withdrawn: return false;
        case AnnouncementState::pending: return std::nullopt;
    }
    return std::nullopt;
}

void plan_gate(ReportMemory::Pod& memory, const PodAnnouncement& announcement, const common::kube::PodInfo& pod,
               const PodIdentity& identity, const std::string& node, ReportPlan& plan) {
    if (!pod.announced_gate) return;
    const std::optional<bool> wanted = wanted_condition(announcement);
    if (!wanted) return;
    // What the pod carries: ours as last sent, else what the watch shows (absent = False,
    // as the kubelet reads it).
    const bool current = memory.condition_sent.value_or(pod.announced_condition.value_or(false));
    const bool present = memory.condition_sent.has_value() || pod.announced_condition.has_value();
    if (current == *wanted && (present || !*wanted)) return;
    memory.condition_sent = *wanted;
    plan.gates.push_back(
        GateWrite{identity, *wanted, std::string(announcement.reason),
                  *wanted ? fmt::format("{} by node {}", announcement.message(), node) : announcement.message()});
}

void plan_events(ReportMemory::Pod& memory, const PodAnnouncement& announcement, const PodIdentity& identity,
                 const std::string& node, ReportPlan& plan) {
    if (!announcement.refusals.empty() && announcement.refusals != memory.refusals) {
        plan.events.push_back(
            {identity, PodEvent{"AnycastRefused",
                                fmt::format("refused by policy: {}", fmt::join(announcement.refusals, "; ")), true}});
    }
    memory.refusals = announcement.refusals;
    if (announcement.state == AnnouncementState::pending) return;
    const std::optional<AnnouncementState> before = std::exchange(memory.state, announcement.state);
    if (std::exchange(memory.quiet, false) || before == announcement.state) return;
    if (announcement.state == AnnouncementState::announced) {
        plan.events.push_back({identity, PodEvent{"AnycastAnnounced",
                                                  fmt::format("{} by node {}", announcement.message(), node), false}});
    } else if (before == AnnouncementState::announced) {
        // A new pod not Ready yet is no news; losing the announcement is.
        plan.events.push_back(
            {identity,
             PodEvent{"AnycastWithdrawn",
                      fmt::format("{} ({}) on node {}", announcement.message(), announcement.reason, node), false}});
    }
}

}  // namespace

ReportPlan plan_reports(ReportMemory& memory, const std::vector<PodAnnouncement>& now, const FindPod& find,
                        const std::string& node) {
    ReportPlan plan;
    std::set<std::string> seen;
    for (const auto& announcement : now) {
        const std::string key = announcement.key();
        const common::kube::PodInfo* pod = find(key);
        if (pod == nullptr) continue;
        seen.insert(key);
        ReportMemory::Pod& remembered = memory.pods[key];
        if (remembered.uid != pod->uid) {
            // Another incarnation under the same name: it starts afresh.
            remembered = ReportMemory::Pod{};
            remembered.uid = pod->uid;
            // Known before serve started: its announcement is no news, unless it waits on our
            // gate (it was never announced, or serve stopped before saying so).
            remembered.quiet = !memory.started && !(pod->announced_gate && pod->announced_condition != true);
        }
        const PodIdentity identity{pod->namespace_, pod->name, pod->uid};
        plan_gate(remembered, announcement, *pod, identity, node, plan);
        plan_events(remembered, announcement, identity, node, plan);
    }
    std::erase_if(memory.pods, [&](const auto& entry) { return !seen.contains(entry.first); });
    memory.started = true;
    return plan;
}

}  // namespace anycast::reconciler
