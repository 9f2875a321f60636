// CNI_ARGS: "K=V;K=V" (CNI spec, "Parameters"). Keys this plugin knows are read; others are an
// error unless IgnoreUnknown=1 (or true), as in the reference plugins' types.LoadArgs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace anycast::cni {

struct CniArgs {
    std::map<std::string, std::string, std::less<>> values;

    std::optional<std::string> get(std::string_view key) const;
};

// The keys understood here: the Kubernetes pod identity that runtimes pass, IgnoreUnknown,
// and ANYCAST_IPS (comma-separated anycast IPs).
bool is_known_cni_arg(std::string_view key);

// Throws CniError code 4 naming CNI_ARGS and the offending pair when malformed
// (no '=', empty key, duplicate key) or when a key is unknown and IgnoreUnknown is not set.
CniArgs parse_cni_args(std::string_view text);

}  // namespace anycast::cni
