// The HTTP endpoint on `metrics.listen` (Boost.Beast, on serve's io_context, one thread):
//   GET /metrics  Prometheus text format 0.0.4 of the registry
//   GET /healthz  200 "ok": answering at all proves the loop turns
//   GET /readyz   200 "ready", or 503 with Health's reason
// anything else 404 (405 for methods other than GET/HEAD). Keep-alive; requests are bounded
// in size; every read and write has a deadline, so a slow or stuck client costs one socket,
// never the loop. Beast stays inside metrics_server.cpp (it is slow to compile).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace anycast::reconciler {

namespace metrics {
class Registry;
}
class Health;

namespace detail {
struct MetricsServerState;  // metrics_server.cpp: the acceptor and the open connections
}

struct MetricsServerOptions {
    // host:port (see metrics_listen.hpp); empty disables the endpoint.
    std::string listen = "127.0.0.1:9641";
    // Request line plus headers (and any body) beyond this get 431/413 and the connection closes.
    std::size_t max_request_bytes = 8192;
    // Deadline for reading one whole request, or writing one response.
    std::chrono::milliseconds io_timeout{10000};
    // A connection waiting for its (next) request longer than this is closed (the read's
    // deadline is the shorter of the two).
    std::chrono::milliseconds idle_timeout{5000};
    // A connection older than this gets `Connection: close` on its next answer.
    std::chrono::milliseconds max_connection_age{60000};
    // At this many open connections a new one takes the slot of the one that has waited
    // longest for a request (idle keep-alive clients must not lock out the kubelet's probe);
    // when none waits, the new one is closed at once. Rejections are logged at most once a
    // minute, with their count.
    std::size_t max_connections = 64;
    // Called on the loop just before /metrics is rendered: figures that other objects keep
    // (BIRD reloads, watch restarts) are copied in then, so every scrape sees them current.
    std::function<void()> before_metrics;
};

// What the endpoint answers to `bytes` arriving on one connection, without a socket: each
// request is read as a connection reads it (Beast's request parser, the same limits) and
// answered as it would be, until the bytes run out (a request cut short gets no answer), one
// fails to parse (too large: 431 or 413, then close; anything else: close) or an answer closes
// the connection. Each element is one answer as written (status line, headers, body). Pure,
// but for `options.before_metrics`; the endpoint's untrusted input, for the fuzz target
// (test/fuzz/). Ignores max_connection_age (a clock, not the bytes).
std::vector<std::string> answer_connection(std::string_view bytes, const metrics::Registry& registry,
                                           const Health& health, const MetricsServerOptions& options);

class MetricsServer {
public:
    // `registry` and `health` must outlive the server; they are read only on the loop.
    MetricsServer(boost::asio::io_context& io, const metrics::Registry& registry, const Health& health,
                  MetricsServerOptions options);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and starts accepting; returns false (and does nothing) when `listen` is empty.
    // Throws std::runtime_error naming the address when it cannot listen, or
    // std::invalid_argument for a malformed `listen`.
    bool start();
    // Stops accepting and closes every open connection. Idempotent; the destructor calls it.
    void stop();

    bool listening() const;
    // The bound port (the kernel's choice when `listen` asked for port 0); 0 when not listening.
    std::uint16_t port() const;
    // Open client connections (for tests and the connection cap).
    std::size_t connections() const;

private:
    // Shared with the pending handlers, which may run after the server is gone.
    std::shared_ptr<detail::MetricsServerState> impl_;
};

}  // namespace anycast::reconciler
