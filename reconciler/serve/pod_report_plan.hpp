// What serve tells the apiserver about its pods after a pass (issue 18 items 2 and 3), decided
// from the pods' announcements: the readiness-gate condition of pods that list the gate, and
// the events worth a line in `kubectl describe pod`. Pure: the writes are
// reconciler/serve/pod_reporter.hpp's.
#pragma once

#include "common/kube/pod_info.hpp"
#include "common/kube/pod_writes.hpp"
#include "reconciler/pipeline/pod_announcements.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

struct GateWrite {
    common::kube::PodIdentity pod;
    bool announced = false;
    std::string reason;
    std::string message;
};

struct EventWrite {
    common::kube::PodIdentity pod;
    common::kube::PodEvent event;
};

// What the planner remembers between passes, per pod.
struct ReportMemory {
    struct Pod {
        std::string uid;
        // The last settled state (announced or withdrawn; pending is not a state change).
        std::optional<AnnouncementState> state;
        // Known at serve's start: its first settled state is no news (a restarted serve does
        // not announce every pod again).
        bool quiet = false;
        std::vector<std::string> refusals;
        // Our condition as we last set it for this uid (the watch may not show it yet).
        std::optional<bool> condition_sent;
    };
    std::map<std::string, Pod> pods;  // by namespace/name
    bool started = false;             // the first plan has run
};

struct ReportPlan {
    std::vector<GateWrite> gates;
    std::vector<EventWrite> events;
};

// `find`: the pod as the watch has it (its uid, whether it lists the gate, our condition),
// nullptr when the watch does not know it (nothing is written about it then). Updates
// `memory`: the gates are remembered as sent (the caller forgets one whose write failed).
using FindPod = std::function<const common::kube::PodInfo*(const std::string& key)>;
ReportPlan plan_reports(ReportMemory& memory, const std::vector<PodAnnouncement>& now, const FindPod& find,
                        const std::string& node);

}  // namespace anycast::reconciler
