// System call failures with context, and the helpers that throw them.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace anycast::common {

// A failed system call: the message is "<what we were doing>: <strerror(errno)>".
class SystemError : public std::runtime_error {
public:
    SystemError(int err, const std::string& context);
    int error_number() const { return errno_; }

private:
    int errno_;
};

// Throws SystemError for errno with a formatted context, e.g.
// throw_errno("setns {}", path) → "setns /var/run/netns/x: No such file or directory".
template <typename... Args>
[[noreturn]] void throw_errno(fmt::format_string<Args...> context, Args&&... args);

[[noreturn]] void throw_errno_value(int err, const std::string& context);

template <typename... Args>
[[noreturn]] void throw_errno(fmt::format_string<Args...> context, Args&&... args) {
    const int err = errno;
    throw_errno_value(err, fmt::format(context, std::forward<Args>(args)...));
}

}  // namespace anycast::common
