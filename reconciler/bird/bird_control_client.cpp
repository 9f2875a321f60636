#include "reconciler/bird/bird_control_client.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/un.h>

#include <memory>

namespace anycast::reconciler {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using stream = asio::local::stream_protocol;

// BIRD's lines are short; a reply line beyond this means we are not talking to BIRD.
constexpr std::size_t k_max_line = 1 << 20;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(asio::io_context& io, std::string command, BirdControlClient::Handler handler)
        : socket_(io), timer_(io), command_(std::move(command) + "\n"), handler_(std::move(handler)) {}

    void start(const std::string& path, std::chrono::milliseconds timeout) {
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->finished_) return;
            // A hung BIRD (or anything else on the socket) must not stall reloads forever.
            self->timed_out_ = true;
            error_code ignored;
            self->socket_.close(ignored);
        });
        // A path longer than sun_path makes the endpoint throw: report it like any failure
        // instead of letting it escape into the event loop.
        if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
            return finish(make_error_code(boost::system::errc::filename_too_long));
        }
        socket_.async_connect(stream::endpoint(path), [self = shared_from_this()](const error_code& ec) {
            if (ec) return self->finish(ec);
            self->read_reply(&Session::on_greeting);
        });
    }

private:
    using Step = void (Session::*)();

    void on_greeting() {
        if (parser_reply_.code() != 1) return finish(make_error_code(boost::system::errc::protocol_error));
        asio::async_write(socket_, asio::buffer(command_),
                          [self = shared_from_this()](const error_code& ec, std::size_t) {
                              if (ec) return self->finish(ec);
                              self->read_reply(&Session::on_reply);
                          });
    }

    void on_reply() { finish({}); }

    // Reads lines until the parser has a complete reply, then continues with `next`.
    void read_reply(Step next) {
        asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, k_max_line), '\n',
                               [self = shared_from_this(), next](const error_code& ec, std::size_t n) {
                                   if (ec) return self->finish(ec);
                                   const std::string line = self->buffer_.substr(0, n - 1);
                                   self->buffer_.erase(0, n);
                                   switch (self->parser_.feed(line)) {
                                       case BirdReplyParser::Result::more: return self->read_reply(next);
                                       case BirdReplyParser::Result::malformed:
                                           return self->finish(make_error_code(boost::system::errc::protocol_error));
                                       case BirdReplyParser::Result::done:
                                           self->parser_reply_ = self->parser_.take();
                                           return ((*self).*next)();
                                   }
                               });
    }

    void finish(error_code ec) {
        if (finished_) return;
        finished_ = true;
        if (timed_out_) ec = make_error_code(boost::system::errc::timed_out);
        timer_.cancel();
        error_code ignored;
        socket_.close(ignored);
        auto handler = std::move(handler_);
        handler(ec, ec ? BirdReply{} : std::move(parser_reply_));
    }

    stream::socket socket_;
    asio::steady_timer timer_;
    std::string command_;
    BirdControlClient::Handler handler_;
    std::string buffer_;
    BirdReplyParser parser_;
    BirdReply parser_reply_;
    bool finished_ = false;
    bool timed_out_ = false;
};

}  // namespace

BirdControlClient::BirdControlClient(asio::io_context& io, std::string socket_path, std::chrono::milliseconds timeout)
    : io_(io), socket_path_(std::move(socket_path)), timeout_(timeout) {}

void BirdControlClient::async_command(std::string command, Handler handler) {
    auto session = std::make_shared<Session>(io_, std::move(command), std::move(handler));
    // Posted so the handler can never run inside this call, even on an immediate failure.
    asio::post(io_, [session, path = socket_path_, timeout = timeout_] { session->start(path, timeout); });
}

}  // namespace anycast::reconciler
