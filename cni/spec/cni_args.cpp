#include "cni/spec/cni_args.hpp"

#include "cni/spec/cni_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace anycast::cni {

namespace {

constexpr std::array<std::string_view, 6> k_known = {
    "IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID", "ANYCAST_IPS"};

[[noreturn]] void bad(const std::string& problem) {
    throw CniError(cni_code::invalid_environment, "CNI_ARGS: " + problem, "expected K=V pairs separated by ';'");
}

bool truthy(std::string_view value) { return value == "1" || value == "true" || value == "True" || value == "TRUE"; }

}  // namespace

std::optional<std::string> CniArgs::get(std::string_view key) const {
    auto found = values.find(key);
    if (found == values.end()) return std::nullopt;
    return found->second;
}

bool is_known_cni_arg(std::string_view key) { return std::find(k_known.begin(), k_known.end(), key) != k_known.end(); }

CniArgs parse_cni_args(std::string_view text) {
    CniArgs args;
    std::vector<std::string> unknown;
    while (!text.empty()) {
        const auto end = text.find(';');
        const std::string_view pair = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (pair.empty()) continue;  // tolerate "A=1;;B=2" and a trailing ';'
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) bad(fmt::format("\"{}\" is not K=V", pair));
        const std::string key(pair.substr(0, eq));
        if (key.empty()) bad(fmt::format("\"{}\" has an empty key", pair));
        if (!args.values.emplace(key, std::string(pair.substr(eq + 1))).second) {
            bad(fmt::format("key {} given twice", key));
        }
        if (!is_known_cni_arg(key)) unknown.push_back(key);
    }
    const auto ignore = args.get("IgnoreUnknown");
    if (!unknown.empty() && !(ignore && truthy(*ignore))) {
        bad(fmt::format("unknown key {} (set IgnoreUnknown=1 to ignore unknown keys)", unknown.front()));
    }
    return args;
}

}  // namespace anycast::cni
