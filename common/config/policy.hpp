// The anycast IP policy (docs/architecture.md section 3): which namespace may claim which IPs. Used by
// the CNI plugin at ADD and again by serve on every pass, so a stale or hand-written record
// cannot announce what the current policy forbids.
#pragma once

#include "common/ip_address.hpp"
#include "common/config/node_config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace anycast::common {

// nullopt when `ip` is allowed for `namespace_name`; otherwise why not, e.g.
// "10.1.0.1 is outside the prefixes of namespace dns (10.255.53.0/24)".
// An empty policy allows nothing; a namespace listed in `namespaces` may claim only its
// own prefixes, every other namespace those in `allowed_prefixes`.
std::optional<std::string> policy_refusal(const Policy& policy, std::string_view namespace_name, const IpAddress& ip);

inline bool policy_allows(const Policy& policy, std::string_view namespace_name, const IpAddress& ip) {
    return !policy_refusal(policy, namespace_name, ip).has_value();
}

}  // namespace anycast::common
