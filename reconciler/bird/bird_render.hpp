// The rendered BIRD include (docs/architecture.md section 7): the installed anycast prefixes as the two
// sets the static flock.conf filters on. Pure: the same set always gives the same bytes, so
// the writer can skip unchanged text and BIRD is reloaded only for a real change.
#pragma once

#include "common/config/bgp_settings.hpp"
#include "common/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

inline constexpr const char* k_bird_set_v4 = "FLOCK_ANYCAST_V4";
inline constexpr const char* k_bird_set_v6 = "FLOCK_ANYCAST_V6";

// "define FLOCK_ANYCAST_V4 = [ a, b ];" and the same for V6, prefixes in canonical text,
// sorted and deduplicated whatever the input order; "[ ]" when a family has none (BIRD 2
// accepts the empty set and it matches nothing, docs/bird.md).
// `attributes`: render_bird_attributes' function, appended (one include holds both).
std::string render_bird_sets(std::vector<common::Prefix> prefixes, std::string_view attributes = {});

// The function BGP export filters call to give an announced prefix the operator's attributes
// (`bgp.prefixes`, issue 18 item 4): `flock_prefix_attributes()` tests the entries most
// specific first and applies the first that contains the route's prefix (communities, large
// communities, local preference, MED, `bgp.asn` prepended `prepend` times); it always returns
// true, so `export where net ~ SET && flock_prefix_attributes();` exports what the set lists.
// Defined (empty) even without entries, so filters may call it whatever the config holds.
// `drain_local_preference`: a drain is on (issue 18 item 1): after the per-prefix attributes,
// every announcement gets the GRACEFUL_SHUTDOWN community (65535:0, RFC 8326) and this
// LOCAL_PREF, so peers move traffic away before the prefixes are withdrawn.
std::string render_bird_attributes(const common::BgpSettings& bgp,
                                   std::optional<std::uint32_t> drain_local_preference = std::nullopt);

}  // namespace anycast::reconciler
