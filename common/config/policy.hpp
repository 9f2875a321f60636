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
// An empty policy allows nothing. A namespace listed in `namespaces` may claim only its own
// prefixes, and they are its alone: every other namespace may claim what `allowed_prefixes`
// holds outside every listed namespace's prefixes. Addresses that are never an anycast
// service's (see unusable_anycast_ip) are refused whatever the policy says.
std::optional<std::string> policy_refusal(const Policy& policy, std::string_view namespace_name, const IpAddress& ip);

// Whether the policy lets `namespace_name` claim any address at all. When it does not, the
// CNI plugin asks no one what the pod wants (no annotation lookup): anycast can never stand
// in the way of pods that cannot use it.
bool may_claim_anything(const Policy& policy, std::string_view namespace_name);

// What `ip` is when it is one of RFC 6890's special ranges that never name a service or a
// peer ("a loopback address"), else nullptr: unspecified, loopback, multicast, link-local,
// (IPv4) limited broadcast. Decided from its leading bytes: serve asks on every pass.
const char* special_address_kind(const IpAddress& ip);

// Why `ip` can never be an anycast address, or nullopt: unspecified, loopback, multicast,
// link-local or (IPv4) the limited broadcast address.
std::optional<std::string> unusable_anycast_ip(const IpAddress& ip);

// Two listed namespaces whose prefixes overlap (one contains the other), as "dns's
// 10.255.53.0/24 overlaps web's 10.255.0.0/16"; nullopt when none do. The node config loader
// refuses such a policy: exclusive prefixes cannot be shared.
std::optional<std::string> overlapping_namespaces(const Policy& policy);

inline bool policy_allows(const Policy& policy, std::string_view namespace_name, const IpAddress& ip) {
    return !policy_refusal(policy, namespace_name, ip).has_value();
}

}  // namespace anycast::common
