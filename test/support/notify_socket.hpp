// The service manager's end of sd_notify(3): a unix datagram socket a child finds through
// $NOTIFY_SOCKET, as systemd gives a Type=notify unit. Sets NOTIFY_SOCKET in this process's
// environment (children spawned meanwhile inherit it) and restores it when destroyed.
#pragma once

#include "common/unique_fd.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace anycast::test {

class NotifySocket {
public:
    // `address`: a path, or "@name" for an abstract socket (both as systemd spells them).
    explicit NotifySocket(std::string address);
    ~NotifySocket();
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // The next message, waiting up to `limit`; nullopt when none came.
    std::optional<std::string> receive(std::chrono::milliseconds limit = std::chrono::seconds(10));

private:
    std::string address_;
    std::optional<std::string> previous_env_;
    common::UniqueFd fd_;
};

}  // namespace anycast::test
