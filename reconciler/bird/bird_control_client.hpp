// One command over BIRD's control socket (unix stream), asynchronously on the caller's
// io_context: connect, read the `0001` greeting, send the command, read the reply. A fresh
// connection per command, so a BIRD restart between two commands needs no reconnect logic.
#pragma once

#include "reconciler/bird/bird_reply.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace anycast::reconciler {

class BirdControlClient {
public:
    // `error` is empty when a complete reply arrived (whatever its code). Otherwise it is the
    // transport failure: not_found / connection_refused (BIRD absent or restarting), eof,
    // timed_out (no complete reply within the timeout), protocol_error (a line that fits
    // none of BIRD's shapes, or a greeting other than 0001).
    using Handler = std::function<void(const boost::system::error_code& error, BirdReply reply)>;

    BirdControlClient(boost::asio::io_context& io, std::string socket_path, std::chrono::milliseconds timeout);

    // `command` without the newline, e.g. "configure". The handler runs on the io_context,
    // never inside this call.
    void async_command(std::string command, Handler handler);

    const std::string& socket_path() const { return socket_path_; }

private:
    boost::asio::io_context& io_;
    std::string socket_path_;
    std::chrono::milliseconds timeout_;
};

}  // namespace anycast::reconciler
