// `why IP` (issue 18 item 5): for one anycast address, every record (pod) that asked for it,
// each pod's eligibility and why, what the policy says, the route serve wants and the one the
// kernel has, whether the include on disk lists the prefix, and what BIRD says (learnt,
// exported to each generated session). Pure: the command reads the inputs (as `plan` does)
// and asks BIRD; this renders.
#pragma once

#include "reconciler/cli/plan.hpp"

#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

// What BIRD answered about the prefix; `error` when it could not be asked.
struct BirdView {
    std::optional<std::string> error;
    std::string table;    // "flock4" / "flock6"
    bool learnt = false;  // in that table (our kernel protocol took the route)
    // Generated config only: each session and whether BIRD exports the prefix to it.
    std::vector<std::pair<std::string, bool>> exports;
};

struct WhyInputs {
    const PlanInputs& plan_inputs;
    const Plan& plan;
    common::IpAddress ip;
    std::optional<std::string> include_on_disk;  // nullopt: unreadable (the reason in `include_error`)
    std::string include_error;
    std::optional<BirdView> bird;  // nullopt: bird.enabled false
};

std::string render_why(const WhyInputs& in);

// BIRD's `show route ... table T` reply text holds the prefix as a route line.
bool bird_lists_route(const std::string& reply_text, const common::Prefix& prefix);

}  // namespace anycast::reconciler
