// `status`: records, eligible pods, installed routes and what is out of sync, as text.
// Pure, built on the same plan a pass would make.
#pragma once

#include "reconciler/plan.hpp"

#include <string>
#include <vector>

namespace anycast::reconciler {

// `plan` made from the same records and pods. Out of sync = the changes a pass would make.
std::string render_status_text(const Plan& plan, const std::vector<common::Record>& records,
                               const ReadinessSnapshot& pods);

}  // namespace anycast::reconciler
