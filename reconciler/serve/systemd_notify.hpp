// Tells systemd how serve is doing (a `Type=notify` unit): READY=1 once the first pass has
// put the routes in place, so `systemctl start` returns, and units ordered after this one
// start, only when the node routes its anycast IPs; STOPPING=1 when it stops. The
// sd_notify(3) protocol: one datagram a message to the socket named by $NOTIFY_SOCKET.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/datagram_protocol.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace anycast::reconciler {

class SystemdNotifier {
public:
    // `socket_path`: $NOTIFY_SOCKET's value, a path or "@name" (an abstract socket);
    // empty: not run by systemd, every message is dropped.
    SystemdNotifier(boost::asio::io_context& io, std::string socket_path);
    static SystemdNotifier from_environment(boost::asio::io_context& io);

    bool enabled() const { return endpoint_.has_value(); }
    // "READY=1\nSTATUS=..."; a failure is logged once, never fatal: systemd then reports
    // the start as timed out, which names the problem better than serve exiting would.
    void notify(std::string_view message);

private:
    boost::asio::local::datagram_protocol::socket socket_;
    std::optional<boost::asio::local::datagram_protocol::endpoint> endpoint_;
    bool failure_logged_ = false;
};

}  // namespace anycast::reconciler
