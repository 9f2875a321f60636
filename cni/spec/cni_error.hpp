// The error a CNI invocation answers the runtime with (CNI spec 1.1, "Error"): a code, a
// message naming what was wrong, and details.
#pragma once

#include <stdexcept>
#include <string>

namespace anycast::cni {

// CNI spec 1.1 error codes, plus ours from 100 (docs/cni.md, "Error codes").
namespace cni_code {
inline constexpr int incompatible_version = 1;
inline constexpr int unsupported_field = 2;
inline constexpr int unknown_container = 3;
inline constexpr int invalid_environment = 4;
inline constexpr int io_failure = 5;
inline constexpr int decoding_failure = 6;
inline constexpr int invalid_config = 7;
inline constexpr int try_again_later = 11;
inline constexpr int plugin_not_available = 50;
inline constexpr int policy_refused = 100;
inline constexpr int no_next_hop = 101;
inline constexpr int kubernetes_lookup_failed = 102;
inline constexpr int state_store_failure = 103;
}  // namespace cni_code

// An error meant for the runtime: `msg` says what was wrong, `details` adds context.
class CniError : public std::runtime_error {
public:
    CniError(int code, std::string msg, std::string details = {})
        : std::runtime_error(std::move(msg)), code_(code), details_(std::move(details)) {}

    int code() const { return code_; }
    const std::string& details() const { return details_; }

private:
    int code_;
    std::string details_;
};

}  // namespace anycast::cni
