// What this kernel offers the ECMP modes (docs/ecmp.md): resilient nexthop groups need
// Linux 5.13+, and BIRD sees routes through nexthop objects only while
// net.ipv4.nexthop_compat_mode is 1 (the kernel's default).
#pragma once

#include "common/config/node_config.hpp"

#include <optional>
#include <string_view>

namespace anycast::reconciler {

// Whether a kernel release ("6.1.0-13-amd64", uname -r) has resilient nexthop groups (5.13+).
// Pure; nullopt when the release does not start with "MAJOR.MINOR".
std::optional<bool> release_has_resilient_groups(std::string_view release);

// `settings` as this kernel can do them: resilient falls back to multipath (logged, with the
// kernel's release) before 5.13. Multipath is left as it is.
common::RouteSettings supported_route_settings(common::RouteSettings settings);

// In resilient mode, warns (once per call) when net.ipv4.nexthop_compat_mode is 0 in this
// namespace: the kernel then neither expands routes through nexthop objects in dumps and
// notifications nor reports a group's changes as route changes, so BIRD learns no next hop
// and announces nothing (or stale hops). Returns whether the setting is fine (or unreadable).
bool check_nexthop_compat_mode(const common::RouteSettings& settings);

}  // namespace anycast::reconciler
