#include "common/config/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace anycast::common {

namespace {

std::string join_prefixes(const std::vector<Prefix>& prefixes) {
    return prefixes.empty() ? "none" : fmt::format("{}", fmt::join(prefixes, ", "));
}

bool any_contains(const std::vector<Prefix>& prefixes, const IpAddress& ip) {
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const Prefix& p) { return p.contains(ip); });
}

Prefix prefix(const char* text) { return *Prefix::parse(text); }

}  // namespace

std::optional<std::string> unusable_anycast_ip(const IpAddress& ip) {
    // RFC 6890's special ranges that no router forwards to a service address.
    static const std::vector<std::pair<Prefix, const char*>> k_unusable = {
        {prefix("0.0.0.0/32"), "the unspecified address"},
        {prefix("127.0.0.0/8"), "a loopback address"},
        {prefix("224.0.0.0/4"), "a multicast address"},
        {prefix("169.254.0.0/16"), "a link-local address"},
        {prefix("255.255.255.255/32"), "the broadcast address"},
        {prefix("::/128"), "the unspecified address"},
        {prefix("::1/128"), "a loopback address"},
        {prefix("ff00::/8"), "a multicast address"},
        {prefix("fe80::/10"), "a link-local address"},
    };
    for (const auto& [range, what] : k_unusable) {
        if (range.contains(ip)) return fmt::format("{} is {}, never an anycast address", ip, what);
    }
    return std::nullopt;
}

std::optional<std::string> policy_refusal(const Policy& policy, std::string_view namespace_name, const IpAddress& ip) {
    if (auto unusable = unusable_anycast_ip(ip)) return unusable;
    if (const auto own = policy.namespaces.find(std::string(namespace_name)); own != policy.namespaces.end()) {
        if (any_contains(own->second, ip)) return std::nullopt;
        return fmt::format("{} is outside the prefixes of namespace {} ({})", ip, namespace_name,
                           join_prefixes(own->second));
    }
    // A listed namespace's prefixes are its alone, even inside allowedPrefixes.
    for (const auto& [owner, prefixes] : policy.namespaces) {
        if (any_contains(prefixes, ip)) {
            return fmt::format("{} is reserved for namespace {} ({})", ip, owner, join_prefixes(prefixes));
        }
    }
    if (any_contains(policy.allowed_prefixes, ip)) return std::nullopt;
    return fmt::format("{} is outside policy.allowedPrefixes ({})", ip, join_prefixes(policy.allowed_prefixes));
}

std::optional<std::string> overlapping_namespaces(const Policy& policy) {
    for (auto a = policy.namespaces.begin(); a != policy.namespaces.end(); ++a) {
        for (auto b = std::next(a); b != policy.namespaces.end(); ++b) {
            for (const auto& mine : a->second) {
                for (const auto& theirs : b->second) {
                    if (mine.contains(theirs) || theirs.contains(mine)) {
                        return fmt::format("{}'s {} overlaps {}'s {}", a->first, mine, b->first, theirs);
                    }
                }
            }
        }
    }
    return std::nullopt;
}

}  // namespace anycast::common
