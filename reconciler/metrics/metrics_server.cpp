#include "reconciler/metrics/metrics_server.hpp"

#include "common/log.hpp"
#include "reconciler/metrics/health.hpp"
#include "reconciler/metrics/metrics_listen.hpp"
#include "reconciler/metrics/metrics_registry.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace anycast::reconciler {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
namespace flog = common::log;

namespace {

class Session;

using RequestParser = http::request_parser<http::string_body>;
using Response = http::response<http::string_body>;

// Why a request failed to parse decides the status we still send before closing.
std::optional<http::status> status_for_read_error(const beast::error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        return http::status::request_header_fields_too_large;
    }
    if (ec == http::error::body_limit) return http::status::payload_too_large;
    return std::nullopt;
}

// A fresh parser for the next request, with the server's bounds.
void start_request(std::optional<RequestParser>& parser, const MetricsServerOptions& options) {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(options.max_request_bytes));
    parser->body_limit(options.max_request_bytes);
}

std::string_view reason_text(http::status status) {
    const auto text = http::obsolete_reason(status);
    return {text.data(), text.size()};
}

// The last answer to a request too large to read.
Response too_large(http::status status) {
    Response response{status, 11};
    response.set(http::field::content_type, "text/plain");
    response.body() = std::string(reason_text(status)) + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    return response;
}

// The answer to one complete request: the routing of the endpoint (metrics_server.hpp).
Response respond(const http::request<http::string_body>& request, const metrics::Registry& registry,
                 const Health& health, const MetricsServerOptions& options) {
    Response response{http::status::ok, request.version()};
    response.keep_alive(request.keep_alive());
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    const std::string_view target(request.target().data(), request.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    const bool head = request.method() == http::verb::head;

    if (request.method() != http::verb::get && !head) {
        response.result(http::status::method_not_allowed);
        response.set(http::field::allow, "GET, HEAD");
        response.body() = "method not allowed\n";
    } else if (path == "/metrics") {
        response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        if (options.before_metrics) options.before_metrics();
        response.body() = registry.render();
    } else if (path == "/healthz") {
        response.body() = "ok\n";
    } else if (path == "/readyz") {
        if (const auto reason = health.not_ready_reason()) {
            response.result(http::status::service_unavailable);
            response.body() = "not ready: " + *reason + "\n";
        } else {
            response.body() = "ready\n";
        }
    } else {
        response.result(http::status::not_found);
        response.body() = "not found\n";
    }
    response.prepare_payload();
    if (head) response.body().clear();  // Content-Length stays that of the GET answer
    return response;
}

}  // namespace

namespace detail {

struct MetricsServerState : std::enable_shared_from_this<MetricsServerState> {
    MetricsServerState(asio::io_context& io_, const metrics::Registry& registry_, const Health& health_,
                       MetricsServerOptions options_)
        : io(io_),
          registry(registry_),
          health(health_),
          options(std::move(options_)),
          acceptor(io_),
          retry_timer(io_) {}

    void accept();
    // Admits `socket` at the connection limit by closing the session that has waited longest
    // for a request; false when every session is busy answering.
    bool evict_longest_waiting();
    void log_rejection();

    asio::io_context& io;
    const metrics::Registry& registry;
    const Health& health;
    MetricsServerOptions options;
    tcp::acceptor acceptor;
    // Accept errors such as EMFILE repeat at once; waiting a little keeps the loop free.
    asio::steady_timer retry_timer;
    std::unordered_set<Session*> sessions;
    std::uint64_t rejected_unlogged = 0;  // connections closed at the limit since the last log line
    std::optional<std::chrono::steady_clock::time_point> last_rejection_log;
    bool running = false;
    std::uint16_t port = 0;
};

}  // namespace detail

using detail::MetricsServerState;

namespace {

// One client connection: read a request, write the response, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(std::shared_ptr<MetricsServerState> server, tcp::socket socket)
        : server_(std::move(server)),
          stream_(std::move(socket)),
          buffer_(server_->options.max_request_bytes),
          started_(std::chrono::steady_clock::now()) {
        server_->sessions.insert(this);
    }
    ~Session() { server_->sessions.erase(this); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void read() {
        start_request(parser_, server_->options);
        waiting_since_ = std::chrono::steady_clock::now();
        stream_.expires_after(std::min(server_->options.io_timeout, server_->options.idle_timeout));
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    // Pending operations complete with operation_aborted and release the session.
    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    // When it started waiting for its current request; nullopt while it answers one.
    const std::optional<std::chrono::steady_clock::time_point>& waiting_since() const { return waiting_since_; }

private:
    void on_read(beast::error_code ec) {
        waiting_since_.reset();
        // A request that completed just before stop() must not touch the registry any more.
        if (!server_->running) return close();
        if (ec) {
            if (auto status = status_for_read_error(ec)) {
                flog::debug("metrics endpoint: request too large, closing", {flog::kv("error", ec.message())});
                response_ = too_large(*status);
                return write();
            }
            // end_of_stream (client closed between requests), timeout, reset: nothing to say.
            if (ec != http::error::end_of_stream && ec != beast::error::timeout) {
                flog::debug("metrics endpoint: read failed", {flog::kv("error", ec.message())});
            }
            return close();
        }
        response_ = respond(parser_->get(), server_->registry, server_->health, server_->options);
        write();
    }

    void write() {
        // Old enough: this is its last answer, so clients reconnect (and slots turn over).
        if (std::chrono::steady_clock::now() - started_ >= server_->options.max_connection_age) {
            response_.keep_alive(false);
        }
        stream_.expires_after(server_->options.io_timeout);
        http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec || !self->response_.keep_alive()) return self->close();
            self->read();
        });
    }

    std::shared_ptr<MetricsServerState> server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<RequestParser> parser_;
    Response response_;
    std::chrono::steady_clock::time_point started_;
    std::optional<std::chrono::steady_clock::time_point> waiting_since_;
};

}  // namespace

void MetricsServerState::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (!self->running || ec == asio::error::operation_aborted) return;
        if (ec) {
            flog::warn("metrics endpoint: accept failed, retrying", {flog::kv("error", ec.message())});
            self->retry_timer.expires_after(std::chrono::milliseconds(100));
            self->retry_timer.async_wait([self](beast::error_code wait_ec) {
                if (!wait_ec && self->running) self->accept();
            });
            return;
        }
        if (self->sessions.size() >= self->options.max_connections && !self->evict_longest_waiting()) {
            self->log_rejection();
            beast::error_code ignored;
            socket.close(ignored);
        } else {
            std::make_shared<Session>(self, std::move(socket))->read();
        }
        self->accept();
    });
}

bool MetricsServerState::evict_longest_waiting() {
    Session* oldest = nullptr;
    for (Session* session : sessions) {
        const auto& since = session->waiting_since();
        if (since && (oldest == nullptr || *since < *oldest->waiting_since())) oldest = session;
    }
    if (oldest == nullptr) return false;
    // Its pending read completes with operation_aborted and releases it; the count drops then,
    // so the new session may briefly make it one over the limit.
    oldest->close();
    return true;
}

void MetricsServerState::log_rejection() {
    ++rejected_unlogged;
    const auto now = std::chrono::steady_clock::now();
    if (last_rejection_log && now - *last_rejection_log < std::chrono::minutes(1)) return;
    flog::warn("metrics endpoint: every connection busy answering; closed new ones",
               {flog::kv("limit", options.max_connections), flog::kv("closed", rejected_unlogged)});
    rejected_unlogged = 0;
    last_rejection_log = now;
}

namespace {

// The bytes one connection delivers, as a SyncReadStream: at most what the buffer asks for per
// read (like a socket), then end of stream.
class BytesStream {
public:
    explicit BytesStream(std::string_view bytes) : rest_(bytes) {}

    template <typename MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
        ec = {};
        if (rest_.empty()) {
            ec = asio::error::eof;  // what a socket reports; Beast turns it into end_of_stream
            return 0;
        }
        const std::size_t n = asio::buffer_copy(buffers, asio::buffer(rest_.data(), rest_.size()));
        rest_.remove_prefix(n);
        return n;
    }

    template <typename MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers) {
        beast::error_code ec;
        const std::size_t n = read_some(buffers, ec);
        if (ec) throw beast::system_error(ec);
        return n;
    }

private:
    std::string_view rest_;
};

}  // namespace

std::vector<std::string> answer_connection(std::string_view bytes, const metrics::Registry& registry,
                                           const Health& health, const MetricsServerOptions& options) {
    // Session::read and Session::on_read, minus the socket and the clock.
    BytesStream stream(bytes);
    beast::flat_buffer buffer(options.max_request_bytes);
    std::optional<RequestParser> parser;
    std::vector<std::string> answers;
    for (;;) {
        start_request(parser, options);
        beast::error_code ec;
        http::read(stream, buffer, *parser, ec);
        Response response;
        if (ec) {
            const auto status = status_for_read_error(ec);
            if (!status) break;
            response = too_large(*status);
        } else {
            response = respond(parser->get(), registry, health, options);
        }
        std::ostringstream text;
        text << response;
        answers.push_back(text.str());
        if (!response.keep_alive()) break;
    }
    return answers;
}

MetricsServer::MetricsServer(asio::io_context& io, const metrics::Registry& registry, const Health& health,
                             MetricsServerOptions options)
    : impl_(std::make_shared<MetricsServerState>(io, registry, health, std::move(options))) {}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::start() {
    if (impl_->running) return true;
    const auto address = parse_listen_address(impl_->options.listen);
    if (!address) {
        flog::info("metrics endpoint disabled (metrics.listen is empty)");
        return false;
    }
    const tcp::endpoint endpoint(asio::ip::make_address(address->host.to_string()), address->port);
    auto& acceptor = impl_->acceptor;
    beast::error_code ec;
    const auto check = [&](std::string_view what) {
        if (!ec) return;
        beast::error_code ignored;
        acceptor.close(ignored);
        throw std::runtime_error(fmt::format("metrics endpoint: {} {}: {}", what, impl_->options.listen, ec.message()));
    };
    acceptor.open(endpoint.protocol(), ec);
    check("open socket for");
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    check("set SO_REUSEADDR on");
    acceptor.bind(endpoint, ec);
    check("bind");
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    check("listen on");
    impl_->port = acceptor.local_endpoint(ec).port();
    check("read the bound address of");
    impl_->running = true;
    impl_->accept();
    flog::info("metrics endpoint listening",
               {flog::kv("address", impl_->options.listen), flog::kv("port", impl_->port)});
    return true;
}

void MetricsServer::stop() {
    if (!impl_->running) return;
    impl_->running = false;
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
    // close() only cancels; sessions leave the set when their handlers release them.
    const std::vector<Session*> open(impl_->sessions.begin(), impl_->sessions.end());
    for (auto* session : open) session->close();
    impl_->port = 0;
}

bool MetricsServer::listening() const { return impl_->running; }
std::uint16_t MetricsServer::port() const { return impl_->port; }
std::size_t MetricsServer::connections() const { return impl_->sessions.size(); }

}  // namespace anycast::reconciler
