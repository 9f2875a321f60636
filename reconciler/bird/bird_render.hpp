// The rendered BIRD include (docs/architecture.md section 7): the installed anycast prefixes as the two
// sets the static flock.conf filters on. Pure: the same set always gives the same bytes, so
// the writer can skip unchanged text and BIRD is reloaded only for a real change.
#pragma once

#include "common/ip_address.hpp"

#include <string>
#include <vector>

namespace anycast::reconciler {

inline constexpr const char* k_bird_set_v4 = "FLOCK_ANYCAST_V4";
inline constexpr const char* k_bird_set_v6 = "FLOCK_ANYCAST_V6";

// "define FLOCK_ANYCAST_V4 = [ a, b ];" and the same for V6, prefixes in canonical text,
// sorted and deduplicated whatever the input order; "[ ]" when a family has none (BIRD 2
// accepts the empty set and it matches nothing, docs/bird.md).
std::string render_bird_sets(std::vector<common::Prefix> prefixes);

}  // namespace anycast::reconciler
