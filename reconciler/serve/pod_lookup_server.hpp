// serve's local socket, `<stateDir>/serve.sock` (common/pod_lookup_protocol.hpp): root only
// (0600, and the peer's credentials checked), one request line and one answer per
// connection, each connection bounded in time, size and number so a stuck or hostile client
// costs at most a slot, never the loop.
#pragma once

#include "common/pod_lookup_protocol.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>

namespace anycast::reconciler {

struct PodLookupServerLimits {
    std::chrono::milliseconds deadline{3000};  // from accept to the answer written
    std::size_t max_connections = 64;          // more are closed at once (the plugin: try again)
};

class PodLookupServer {
public:
    using Done = std::function<void(common::PodLookupAnswer)>;
    using Handler = std::function<void(const common::PodLookupRequest&, Done)>;
    // A command line ({"command": ...}): its answer line, at once.
    using CommandHandler = std::function<std::string(const std::string& command)>;

    // Binds `path` (replacing a socket left by an earlier serve: the instance lock says none
    // runs) with mode 0600 from the start: bound under a temporary name, chmod, renamed.
    // Throws SystemError naming the path.
    PodLookupServer(boost::asio::io_context& io, std::string path, Handler handler, CommandHandler commands,
                    PodLookupServerLimits limits = {});
    // Stops accepting and removes the socket file if it is still the one bound here.
    ~PodLookupServer();
    PodLookupServer(const PodLookupServer&) = delete;
    PodLookupServer& operator=(const PodLookupServer&) = delete;

    const std::string& path() const { return path_; }
    std::size_t connections() const { return *connections_; }

private:
    void accept();

    boost::asio::io_context& io_;
    std::string path_;
    Handler handler_;
    CommandHandler commands_;
    PodLookupServerLimits limits_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    boost::asio::steady_timer retry_;  // after a failed accept
    dev_t device_ = 0;
    ino_t inode_ = 0;
    std::shared_ptr<std::size_t> connections_ = std::make_shared<std::size_t>(0);
};

}  // namespace anycast::reconciler
