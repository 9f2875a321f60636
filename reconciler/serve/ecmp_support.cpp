#include "reconciler/serve/ecmp_support.hpp"

#include "common/log.hpp"

#include <sys/utsname.h>

#include <charconv>
#include <fstream>
#include <string>

namespace anycast::reconciler {

namespace log = common::log;

namespace {

constexpr const char* k_compat_mode_path = "/proc/sys/net/ipv4/nexthop_compat_mode";

std::optional<int> read_number(std::string_view& text) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

}  // namespace

std::optional<bool> release_has_resilient_groups(std::string_view release) {
    const auto major = read_number(release);
    if (!major || release.empty() || release.front() != '.') return std::nullopt;
    release.remove_prefix(1);
    const auto minor = read_number(release);
    if (!minor) return std::nullopt;
    return *major > 5 || (*major == 5 && *minor >= 13);
}

common::RouteSettings supported_route_settings(common::RouteSettings settings) {
    if (settings.ecmp != common::EcmpMode::resilient) return settings;
    utsname name{};
    if (::uname(&name) != 0) return settings;  // cannot tell: try, a refusal is logged per change
    const auto supported = release_has_resilient_groups(name.release);
    if (supported.value_or(true)) return settings;
    log::warn(
        "this kernel has no resilient nexthop groups (Linux 5.13+); routes.ecmp falls back to multipath: a pod "
        "leaving may move flows of the pods that stay",
        {log::kv("kernel", name.release)});
    settings.ecmp = common::EcmpMode::multipath;
    return settings;
}

bool check_nexthop_compat_mode(const common::RouteSettings& settings) {
    if (settings.ecmp != common::EcmpMode::resilient) return true;
    std::ifstream file(k_compat_mode_path);
    std::string value;
    if (!(file >> value)) return true;  // an old kernel without the setting always expands
    if (value != "0") return true;
    log::warn(
        "net.ipv4.nexthop_compat_mode is 0: routes through nexthop objects carry no next hops that BIRD "
        "can read, so it announces none of them; set it to 1 (sysctl -w net.ipv4.nexthop_compat_mode=1) or "
        "use routes.ecmp multipath",
        {log::kv("setting", k_compat_mode_path)});
    return false;
}

}  // namespace anycast::reconciler
