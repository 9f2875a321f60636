#include "reconciler/pipeline/pod_announcements.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

namespace anycast::reconciler {

namespace {

// Binary searches, not a merge: `have` is the node's whole set and a pod wants one or two.
std::vector<common::Prefix> missing_from(const std::vector<common::Prefix>& wanted,
                                         std::span<const common::Prefix> have) {
    std::vector<common::Prefix> missing;
    for (const auto& prefix : wanted) {
        if (!std::binary_search(have.begin(), have.end(), prefix)) missing.push_back(prefix);
    }
    return missing;
}

// What one pod's records ask for: the prefixes its eligible records route, and the rest.
struct PodClaims {
    std::vector<common::Prefix> wanted;  // sorted, unique
    std::vector<std::string> refusals;
    std::vector<std::string> without_hop;
    const char* ineligible = nullptr;  // set when no record of the pod is eligible
    bool any_eligible = false;
};

PodClaims claims_of(const std::vector<const RouteRecord*>& records, const EligibilityIndex& index,
                    const common::Policy& policy) {
    PodClaims claims;
    for (const RouteRecord* record : records) {
        // A record of an older incarnation ("uid differs") beside the current one does not
        // make the pod ineligible: only the eligible records count.
        const char* why = index.why_ineligible(record->pod);
        if (why != nullptr && claims.ineligible == nullptr) claims.ineligible = why;
        if (why == nullptr) claims.any_eligible = true;
        for (const auto& ip : record->ips) {
            if (auto refusal = common::policy_refusal(policy, record->pod.namespace_, ip)) {
                claims.refusals.push_back(fmt::format("{}: {}", ip, *refusal));
            } else if (!has_usable_hop(*record, ip.family())) {
                claims.without_hop.push_back(fmt::format("{}", ip));
            } else if (why == nullptr) {
                claims.wanted.push_back(common::Prefix::host(ip));
            }
        }
    }
    std::sort(claims.wanted.begin(), claims.wanted.end());
    claims.wanted.erase(std::unique(claims.wanted.begin(), claims.wanted.end()), claims.wanted.end());
    std::sort(claims.refusals.begin(), claims.refusals.end());
    claims.refusals.erase(std::unique(claims.refusals.begin(), claims.refusals.end()), claims.refusals.end());
    return claims;
}

void judge(PodAnnouncement& out, PodClaims& claims, const AnnouncementInputs& in) {
    using enum AnnouncementState;
    const auto set = [&](AnnouncementState state, std::string_view reason, std::vector<common::Prefix> prefixes) {
        out.state = state;
        out.reason = reason;
        out.prefixes = std::move(prefixes);
    };
    if (!claims.any_eligible) {
        out.ineligible = claims.ineligible;
        set(withdrawn, "NotEligible", {});
    } else if (claims.wanted.empty() && !claims.refusals.empty()) {
        set(withdrawn, "Refused", {});
    } else if (claims.wanted.empty()) {
        out.without_hop = std::move(claims.without_hop);
        set(withdrawn, "NoNextHop", {});
    } else if (in.drained) {
        set(withdrawn, "Drained", std::move(claims.wanted));
    } else if (auto unrouted = missing_from(claims.wanted, in.installed); !unrouted.empty()) {
        set(withdrawn, "NotRouted", std::move(unrouted));
    } else if (auto waiting = missing_from(claims.wanted, in.applied); !waiting.empty()) {
        set(pending, "Pending", std::move(waiting));
    } else {
        set(announced, "Announced", std::move(claims.wanted));
    }
}

}  // namespace

std::string PodAnnouncement::message() const {
    if (reason == "NotEligible") {
        return ineligible.starts_with("pod ") ? std::string(ineligible) : fmt::format("pod {}", ineligible);
    }
    if (reason == "Refused") return fmt::format("refused by policy: {}", fmt::join(refusals, "; "));
    if (reason == "NoNextHop") return fmt::format("no next hop of the family of {}", fmt::join(without_hop, ", "));
    if (reason == "Drained") return fmt::format("node drained: {} withdrawn from BGP", fmt::join(prefixes, ", "));
    if (reason == "NotRouted") return fmt::format("no route for {}", fmt::join(prefixes, ", "));
    if (reason == "Pending") return fmt::format("routed; BIRD has not taken {} in yet", fmt::join(prefixes, ", "));
    return fmt::format("{} announced", fmt::join(prefixes, ", "));
}

std::vector<PodAnnouncement> pod_announcements(const AnnouncementInputs& in) {
    const EligibilityIndex index(in.pods);
    // Records are ordered by file name, not by pod.
    std::map<std::pair<std::string_view, std::string_view>, std::vector<const RouteRecord*>> by_pod;
    for (const RouteRecord* record : in.records) by_pod[{record->pod.namespace_, record->pod.name}].push_back(record);

    std::vector<PodAnnouncement> out;
    out.reserve(by_pod.size());
    for (const auto& [pod, records] : by_pod) {
        PodAnnouncement& announcement = out.emplace_back();
        announcement.namespace_ = pod.first;
        announcement.name = pod.second;
        PodClaims claims = claims_of(records, index, in.policy);
        announcement.refusals = claims.refusals;
        judge(announcement, claims, in);
    }
    return out;
}

}  // namespace anycast::reconciler
