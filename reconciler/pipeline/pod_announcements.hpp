// What each pod's anycast IPs amount to after a pass (issue 18 items 2 and 3): announced, or
// why not. serve turns it into the pod's readiness-gate condition and its events
// (reconciler/serve/pod_reporter.hpp). Pure: records, readiness, policy and the two sets in;
// no I/O.
#pragma once

#include "common/config/policy.hpp"
#include "reconciler/pipeline/readiness_snapshot.hpp"
#include "reconciler/pipeline/resolve.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

enum class AnnouncementState {
    announced,  // every IP the pod may claim is routed and BIRD has taken it in
    pending,    // routed, BIRD has not taken it in yet: not a change worth reporting
    withdrawn,  // not carrying traffic: `reason` says why
};

struct PodAnnouncement {
    std::string namespace_;
    std::string name;
    AnnouncementState state = AnnouncementState::withdrawn;
    // A CamelCase word for the condition's reason: Announced, Pending, NotEligible, Drained,
    // NotRouted, Refused, NoNextHop.
    std::string_view reason;
    // What message() names: the prefixes announced, drained, not routed or not yet taken in by
    // BIRD; the addresses without a next hop; the eligibility problem ("not ready").
    std::vector<common::Prefix> prefixes;
    std::vector<std::string> without_hop;
    std::string_view ineligible;
    std::vector<std::string> refusals;  // "<ip>: <policy's reason>", whatever the state

    std::string key() const { return namespace_ + "/" + name; }
    // For people: which prefixes, or why not. Made on demand: a pass over 10 000 pods formats
    // none of them.
    std::string message() const;
    friend bool operator==(const PodAnnouncement&, const PodAnnouncement&) = default;
};

struct AnnouncementInputs {
    std::span<const RouteRecord* const> records;
    const ReadinessSnapshot& pods;
    const common::Policy& policy;
    std::span<const common::Prefix> installed;  // routes in the kernel, sorted
    std::span<const common::Prefix> applied;    // sets BIRD has taken in, sorted
    bool drained = false;                       // the node is drained: nothing is announced
};

// One entry per pod that has records, ordered by namespace/name. A pod with several records
// (interfaces) counts all of them.
std::vector<PodAnnouncement> pod_announcements(const AnnouncementInputs& in);

}  // namespace anycast::reconciler
