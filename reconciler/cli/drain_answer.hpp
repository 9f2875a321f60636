// `flock-anycast drain | undrain | drain-status`: serve's answer as text. Pure.
#pragma once

#include "common/pod_lookup_protocol.hpp"

#include <string>

namespace anycast::reconciler {

// "drained (node cordoned (spec.unschedulable))\n" then, indented, since when and every reason
// holding with its since-time, and serve's note (an undrain that left the drain on) last.
std::string render_drain_answer(const common::ServeCommandAnswer& answer);

}  // namespace anycast::reconciler
