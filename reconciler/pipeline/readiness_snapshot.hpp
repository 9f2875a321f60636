// What serve knows of the pods of its node at one moment, whichever readiness source told it
// (reconciler/readiness/): the input resolve takes beside the records and the policy.
#pragma once

#include "common/pod_state.hpp"

#include <vector>

namespace anycast::reconciler {

// Everything a source currently knows. A pod absent from `pods` is unknown, hence not
// eligible, unless `all_ready` is set (the `always` source: every record's pod counts as
// known, Ready and not deleting, whatever its uid).
struct ReadinessSnapshot {
    bool all_ready = false;
    std::vector<common::PodState> pods;  // pods of this node; order irrelevant
};

}  // namespace anycast::reconciler
