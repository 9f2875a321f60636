// The current UTC time as text: records carry RFC 3339 timestamps, quarantined records a
// compact stamp in their file name.
#pragma once

#include <ctime>
#include <string>

namespace anycast::common {

inline constexpr const char* k_rfc3339_utc = "%Y-%m-%dT%H:%M:%SZ";  // 2026-11-30T10:00:00Z
inline constexpr const char* k_compact_utc = "%Y%m%dT%H%M%SZ";      // 20261130T100000Z

// `format` is a strftime(3) format that fits in 31 characters once expanded.
inline std::string utc_now(const char* format) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char text[32];
    return std::string(text, std::strftime(text, sizeof text, format, &tm));
}

}  // namespace anycast::common
