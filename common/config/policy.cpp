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

}  // namespace

const char* special_address_kind(const IpAddress& ip) {
    const std::uint8_t* b = ip.data();
    const bool rest_zero = std::all_of(b + 1, b + ip.size() - 1, [](std::uint8_t x) { return x == 0; });
    if (ip.is_v4()) {
        if (b[0] == 0 && rest_zero && b[3] == 0) return "the unspecified address";
        if (b[0] == 127) return "a loopback address";
        if (b[0] >= 224 && b[0] <= 239) return "a multicast address";
        if (b[0] == 169 && b[1] == 254) return "a link-local address";
        if (std::all_of(b, b + 4, [](std::uint8_t x) { return x == 255; })) return "the broadcast address";
        return nullptr;
    }
    if (b[0] == 0 && rest_zero && b[15] == 0) return "the unspecified address";
    if (b[0] == 0 && rest_zero && b[15] == 1) return "a loopback address";
    if (b[0] == 0xff) return "a multicast address";                            // ff00::/8
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "a link-local address";  // fe80::/10
    return nullptr;
}

std::optional<std::string> unusable_anycast_ip(const IpAddress& ip) {
    if (const char* kind = special_address_kind(ip)) return fmt::format("{} is {}, never an anycast address", ip, kind);
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

bool may_claim_anything(const Policy& policy, std::string_view namespace_name) {
    if (const auto own = policy.namespaces.find(std::string(namespace_name)); own != policy.namespaces.end()) {
        return !own->second.empty();
    }
    // Some allowed prefix that no listed namespace's prefix wholly covers leaves room.
    return std::any_of(policy.allowed_prefixes.begin(), policy.allowed_prefixes.end(), [&](const Prefix& allowed) {
        return std::none_of(policy.namespaces.begin(), policy.namespaces.end(), [&](const auto& listed) {
            return std::any_of(listed.second.begin(), listed.second.end(),
                               [&](const Prefix& reserved) { return reserved.contains(allowed); });
        });
    });
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
