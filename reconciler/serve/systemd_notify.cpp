#include "reconciler/serve/systemd_notify.hpp"

#include "common/log.hpp"

#include <boost/asio/buffer.hpp>

#include <cstdlib>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io, std::string socket_path) : socket_(io) {
    if (socket_path.empty()) return;
    // An abstract socket's name starts with a NUL byte where systemd writes '@'.
    std::string address = socket_path;
    if (address.front() == '@') address.front() = '\0';
    try {
        endpoint_.emplace(address);
        socket_.open();
        // A service manager that stops reading must not stall the loop: a full queue drops
        // the message instead (logged).
        socket_.non_blocking(true);
    } catch (const std::exception& e) {
        endpoint_.reset();
        log::error("systemd notification socket unusable; readiness will not be reported",
                   {kv("notifySocket", socket_path), kv("error", e.what())});
    }
}

SystemdNotifier SystemdNotifier::from_environment(boost::asio::io_context& io) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    return SystemdNotifier(io, path != nullptr ? path : "");
}

void SystemdNotifier::notify(std::string_view message) {
    if (!endpoint_) return;
    boost::system::error_code ec;
    socket_.send_to(boost::asio::buffer(message.data(), message.size()), *endpoint_, 0, ec);
    if (ec && !failure_logged_) {
        failure_logged_ = true;
        log::error("systemd notification failed", {kv("message", message), kv("error", ec.message())});
    } else if (!ec) {
        failure_logged_ = false;
    }
}

}  // namespace anycast::reconciler
