// Entering a network namespace for a scope (setns, restored on exit).
#pragma once

#include <string>

namespace anycast::common::netlink {

// Moves the calling thread into the network namespace at `netns_path` and back to its
// original one on destruction. Errors name the path ("open netns /run/netns/x: No such file
// or directory"). Failing to return aborts: continuing in the wrong namespace would change
// the wrong routes.
class NetnsGuard {
public:
    explicit NetnsGuard(const std::string& netns_path);
    ~NetnsGuard();
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;

private:
    int original_fd_ = -1;
};

}  // namespace anycast::common::netlink
