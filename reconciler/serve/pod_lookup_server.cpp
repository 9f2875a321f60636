#include "reconciler/serve/pod_lookup_server.hpp"

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "common/log.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anycast::reconciler {

namespace net = boost::asio;
using common::PodLookupAnswer;
using local_socket = net::local::stream_protocol::socket;
namespace log = common::log;
using log::kv;

namespace {

// Root, or serve's own user: the file mode already says so; this also holds when someone
// loosens the mode or the directory's.
bool peer_allowed(local_socket& socket) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) return false;
    return peer.uid == 0 || peer.uid == ::geteuid();
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(local_socket socket, PodLookupServer::Handler handler, PodLookupServer::CommandHandler commands,
            std::shared_ptr<std::size_t> connections)
        : socket_(std::move(socket)),
          deadline_(socket_.get_executor()),
          buffer_(common::k_pod_lookup_line_limit),
          handler_(std::move(handler)),
          commands_(std::move(commands)),
          connections_(std::move(connections)) {
        ++*connections_;
    }
    ~Session() { --*connections_; }

    void start(std::chrono::milliseconds deadline) {
        if (!peer_allowed(socket_)) {
            log::warn("serve.sock: connection from a user other than root refused");
            return;  // closed with the session
        }
        deadline_.expires_after(deadline);
        deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec) return;
            boost::system::error_code ignored;
            self->socket_.close(ignored);  // the read or write in progress ends with an error
        });
        net::async_read_until(socket_, buffer_, '\n',
                              [self = shared_from_this()](boost::system::error_code ec, std::size_t length) {
                                  self->on_request(ec, length);
                              });
    }

private:
    void on_request(boost::system::error_code ec, std::size_t length) {
        if (ec == net::error::not_found) {
            answer(PodLookupAnswer::failed(
                "request longer than " + std::to_string(common::k_pod_lookup_line_limit) + " bytes", false));
            return;
        }
        if (ec) return;  // closed, timed out: nothing to answer
        std::string line(net::buffers_begin(buffer_.data()), net::buffers_begin(buffer_.data()) + length - 1);
        common::PodLookupRequest request;
        try {
            if (auto command = common::parse_command(line)) {
                write(commands_(*command));
                return;
            }
            request = common::parse_request(line);
        } catch (const common::JsonError& e) {
            answer(PodLookupAnswer::failed(std::string("bad request: ") + e.what(), false));
            return;
        }
        handler_(request, [self = shared_from_this()](PodLookupAnswer result) { self->answer(result); });
    }

    void answer(const PodLookupAnswer& result) { write(common::encode_answer(result)); }

    void write(std::string line) {
        if (!socket_.is_open()) return;  // the deadline passed first
        reply_ = std::move(line);
        net::async_write(socket_, net::buffer(reply_),
                         [self = shared_from_this()](boost::system::error_code, std::size_t) {
                             self->deadline_.cancel();
                             boost::system::error_code ignored;
                             self->socket_.close(ignored);
                         });
    }

    local_socket socket_;
    net::steady_timer deadline_;
    net::streambuf buffer_;
    std::string reply_;
    PodLookupServer::Handler handler_;
    PodLookupServer::CommandHandler commands_;
    std::shared_ptr<std::size_t> connections_;
};

}  // namespace

PodLookupServer::PodLookupServer(net::io_context& io, std::string path, Handler handler, CommandHandler commands,
                                 PodLookupServerLimits limits)
    : io_(io),
      path_(std::move(path)),
      handler_(std::move(handler)),
      commands_(std::move(commands)),
      limits_(limits),
      acceptor_(io),
      retry_(io) {
    const std::string temp = path_ + ".tmp-" + std::to_string(::getpid());
    ::unlink(temp.c_str());  // left by a serve of the same pid that died here: ours to replace
    acceptor_.open();
    acceptor_.bind(net::local::stream_protocol::endpoint(temp));
    if (::chmod(temp.c_str(), 0600) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        common::throw_errno_value(error, "chmod 0600 " + temp);
    }
    acceptor_.listen();
    if (::rename(temp.c_str(), path_.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        common::throw_errno_value(error, "rename " + temp + " to " + path_);
    }
    struct stat bound {};
    if (::stat(path_.c_str(), &bound) == 0) {
        device_ = bound.st_dev;
        inode_ = bound.st_ino;
    }
    log::info("pod lookups listening", {kv("socket", path_)});
    accept();
}

PodLookupServer::~PodLookupServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    struct stat now {};
    if (::stat(path_.c_str(), &now) == 0 && now.st_dev == device_ && now.st_ino == inode_) ::unlink(path_.c_str());
}

void PodLookupServer::accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, local_socket socket) {
        if (ec == net::error::operation_aborted) return;  // closed: the server is going away
        if (ec) {
            // Out of fds, most likely: wait a little instead of spinning on the same error.
            log::warn("serve.sock: accept failed; trying again in 100 ms", {kv("error", ec.message())});
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](boost::system::error_code wait) {
                if (!wait) accept();
            });
            return;
        }
        if (*connections_ >= limits_.max_connections) {
            log::warn("serve.sock: too many connections; one closed unanswered",
                      {kv("limit", limits_.max_connections)});
        } else {
            std::make_shared<Session>(std::move(socket), handler_, commands_, connections_)->start(limits_.deadline);
        }
        accept();
    });
}

}  // namespace anycast::reconciler
