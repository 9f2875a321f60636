#include "common/config/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace anycast::common {

namespace {

std::string join_prefixes(const std::vector<Prefix>& prefixes) {
    std::string text;
    for (const auto& prefix : prefixes) {
        if (!text.empty()) text += ", ";
        text += prefix.to_string();
    }
    return text.empty() ? "none" : text;
}

bool any_contains(const std::vector<Prefix>& prefixes, const IpAddress& ip) {
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const Prefix& p) { return p.contains(ip); });
}

}  // namespace

std::optional<std::string> policy_refusal(const Policy& policy, std::string_view namespace_name, const IpAddress& ip) {
    if (const auto own = policy.namespaces.find(std::string(namespace_name)); own != policy.namespaces.end()) {
        if (any_contains(own->second, ip)) return std::nullopt;
        return fmt::format("{} is outside the prefixes of namespace {} ({})", ip.to_string(), namespace_name,
                           join_prefixes(own->second));
    }
    if (any_contains(policy.allowed_prefixes, ip)) return std::nullopt;
    return fmt::format("{} is outside policy.allowedPrefixes ({})", ip.to_string(),
                       join_prefixes(policy.allowed_prefixes));
}

}  // namespace anycast::common
