// CNI spec versions this plugin speaks.
#pragma once

#include <array>
#include <string_view>

namespace anycast::cni {

inline constexpr std::string_view k_current_version = "1.1.0";
inline constexpr std::array<std::string_view, 5> k_supported_versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

bool is_supported_version(std::string_view version);

// Compares "major.minor.patch" numerically (missing parts count as 0): <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);
inline bool version_at_least(std::string_view version, std::string_view minimum) {
    return compare_versions(version, minimum) >= 0;
}

}  // namespace anycast::cni
