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

std::optional<std::string> policy_refusal(const Policy& policy, std::string_view namespace_name, const IpAddress& ip) {
    if (const auto own = policy.namespaces.find(std::string(namespace_name)); own != policy.namespaces.end()) {
        if (any_contains(own->second, ip)) return std::nullopt;
        return fmt::format("{} is outside the prefixes of namespace {} ({})", ip, namespace_name,
                           join_prefixes(own->second));
    }
    if (any_contains(policy.allowed_prefixes, ip)) return std::nullopt;
    return fmt::format("{} is outside policy.allowedPrefixes ({})", ip, join_prefixes(policy.allowed_prefixes));
}

}  // namespace anycast::common
