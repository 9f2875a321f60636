// The metrics and health endpoint on a real loopback socket: the server and a Beast client
// share one io_context, driven here one handler at a time, as serve's loop would be.
#include "reconciler/metrics/health.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/metrics/metrics_scrape.hpp"
#include "reconciler/metrics/metrics_server.hpp"
#include "test/support/netns.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace anycast::reconciler;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Runs handlers until `done`; the server's pending accept keeps the context busy.
void run_until(asio::io_context& io, const bool& done) {
    while (!done) REQUIRE(io.run_one() > 0);
}

struct Reply {
    unsigned status = 0;
    std::string content_type;
    std::string body;
    bool keep_alive = false;
};

// One client connection; several requests on it reuse it (keep-alive).
class Client {
public:
    Client(asio::io_context& io, const std::string& host, std::uint16_t port) : io_(io), stream_(io) {
        bool done = false;
        beast::error_code result;
        stream_.async_connect(tcp::endpoint(asio::ip::make_address(host), port), [&](beast::error_code ec) {
            result = ec;
            done = true;
        });
        run_until(io_, done);
        if (result) throw beast::system_error(result);
    }

    Reply request(http::verb verb, const std::string& target) {
        http::request<http::empty_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        bool done = false;
        beast::error_code result;
        http::async_write(stream_, req, [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        run_until(io_, done);
        REQUIRE_FALSE(result);
        http::response_parser<http::string_body> parser;
        // A HEAD answer carries Content-Length but no body.
        parser.skip(verb == http::verb::head);
        done = false;
        http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        run_until(io_, done);
        if (result) throw beast::system_error(result);
        const auto& res = parser.get();
        return Reply{res.result_int(), std::string(res[http::field::content_type]), res.body(), res.keep_alive()};
    }

    Reply get(const std::string& target) { return request(http::verb::get, target); }

    void send_raw(const std::string& bytes) {
        bool done = false;
        beast::error_code result;
        asio::async_write(stream_, asio::buffer(bytes), [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        run_until(io_, done);
        REQUIRE_FALSE(result);
    }

    // Reads whatever the server sends until it closes the connection.
    std::string read_until_closed() {
        std::string received;
        for (;;) {
            bool done = false;
            beast::error_code result;
            char chunk[4096];
            std::size_t n = 0;
            stream_.socket().async_read_some(asio::buffer(chunk), [&](beast::error_code ec, std::size_t got) {
                result = ec;
                n = got;
                done = true;
            });
            run_until(io_, done);
            received.append(chunk, n);
            if (result == asio::error::eof || result == asio::error::connection_reset) return received;
            REQUIRE_FALSE(result);
        }
    }

private:
    asio::io_context& io_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

// The value of one series in an exposition, e.g. `flock_anycast_records`.
std::optional<double> sample(const std::string& exposition, const std::string& series) {
    const std::string key = "\n" + series + " ";
    const auto at = exposition.find(key);
    if (at == std::string::npos) return std::nullopt;
    const auto start = at + key.size();
    return std::stod(exposition.substr(start, exposition.find('\n', start) - start));
}

MetricsServerOptions options_for(std::string listen) {
    MetricsServerOptions options;
    options.listen = std::move(listen);
    return options;
}

// A private namespace (first: every socket below lives in it), a loop, the instruments and
// the server on them, started.
struct Endpoint {
    explicit Endpoint(MetricsServerOptions options) : server(io, metrics.registry, health, std::move(options)) {
        REQUIRE(server.start());
    }
    Client client() { return Client(io, "127.0.0.1", server.port()); }

    anycast::test::PrivateNetns netns;
    asio::io_context io;
    Metrics metrics;
    Health health;
    MetricsServer server;
};

}  // namespace

TEST_CASE("the endpoint serves metrics, health, readiness and 404 on an ephemeral loopback port", "[netns]") {
    Endpoint endpoint(options_for("127.0.0.1:0"));
    auto& [netns, io, metrics, health, server] = endpoint;
    REQUIRE(server.listening());
    REQUIRE(server.port() != 0);

    auto client = endpoint.client();
    const auto scrape = client.get("/metrics");
    CHECK(scrape.status == 200);
    CHECK(scrape.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(scrape.body == metrics.registry.render());
    CHECK(scrape.keep_alive);

    const auto health_reply = client.get("/healthz");
    CHECK(health_reply.status == 200);
    CHECK(health_reply.body == "ok\n");

    const auto not_ready = client.get("/readyz");
    CHECK(not_ready.status == 503);
    CHECK(not_ready.body == "not ready: first reconcile pass not done; readiness source has not synced yet\n");

    CHECK(client.get("/metrics?name[]=x").status == 200);  // a query string does not change the path
    CHECK(client.get("/nothing-here").status == 404);
    CHECK(client.request(http::verb::post, "/metrics").status == 405);
    const auto head = client.request(http::verb::head, "/healthz");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    // Every request above went over the one keep-alive connection.
    CHECK(server.connections() == 1);
}

TEST_CASE("before_metrics runs on the loop before each /metrics answer, and only then", "[netns]") {
    int calls = 0;
    MetricsServerOptions options = options_for("127.0.0.1:0");
    Metrics* instruments = nullptr;
    options.before_metrics = [&] {
        ++calls;
        instruments->kube_relists.inc();  // what the feed does: copy a count in just in time
    };
    Endpoint endpoint(std::move(options));
    instruments = &endpoint.metrics;
    auto client = endpoint.client();

    CHECK(sample(client.get("/metrics").body, "flock_anycast_kube_relists_total") == 1);
    CHECK(sample(client.get("/metrics").body, "flock_anycast_kube_relists_total") == 2);
    client.get("/healthz");
    client.get("/readyz");
    CHECK(calls == 2);
}

TEST_CASE("scraped values move as the loop changes the instruments, and readiness follows", "[netns]") {
    Endpoint endpoint(options_for("127.0.0.1:0"));
    auto& [netns, io, metrics, health, server] = endpoint;
    auto client = endpoint.client();

    auto text = client.get("/metrics").body;
    CHECK(sample(text, "flock_anycast_routes_installed{family=\"ipv4\"}") == 0);
    CHECK(sample(text, "flock_anycast_reconcile_passes_total{result=\"success\"}") == 0);
    CHECK(sample(text, "flock_anycast_reconcile_duration_seconds_count") == 0);

    // What serve does after a pass that installed one IPv4 route with two hops.
    metrics.routes_ipv4.set(1);
    metrics.nexthops_ipv4.set(2);
    metrics.records.set(2);
    metrics.eligible_pods.set(2);
    metrics.record_pass(0.0004, true, 1732450000);
    metrics.record_bird_reload(true);
    health.set_readiness_synced(true);
    CHECK(client.get("/readyz").status == 503);
    health.set_first_pass_done();

    text = client.get("/metrics").body;
    CHECK(sample(text, "flock_anycast_routes_installed{family=\"ipv4\"}") == 1);
    CHECK(sample(text, "flock_anycast_nexthops{family=\"ipv4\"}") == 2);
    CHECK(sample(text, "flock_anycast_records") == 2);
    CHECK(sample(text, "flock_anycast_eligible_pods") == 2);
    CHECK(sample(text, "flock_anycast_reconcile_passes_total{result=\"success\"}") == 1);
    CHECK(sample(text, "flock_anycast_reconcile_duration_seconds_bucket{le=\"0.0005\"}") == 1);
    CHECK(sample(text, "flock_anycast_reconcile_duration_seconds_count") == 1);
    CHECK(sample(text, "flock_anycast_bird_reloads_total{result=\"success\"}") == 1);
    CHECK(sample(text, "flock_anycast_last_successful_pass_timestamp_seconds") == 1732450000);
    const auto ready = client.get("/readyz");
    CHECK(ready.status == 200);
    CHECK(ready.body == "ready\n");

    // A pod leaves: one hop fewer; then the apiserver goes away.
    metrics.nexthops_ipv4.set(1);
    metrics.kube_watch_restarts.inc();
    metrics.netlink_errors.inc();
    health.set_readiness_synced(false, "apiserver unreachable");
    text = client.get("/metrics").body;
    CHECK(sample(text, "flock_anycast_nexthops{family=\"ipv4\"}") == 1);
    CHECK(sample(text, "flock_anycast_kube_watch_restarts_total") == 1);
    CHECK(sample(text, "flock_anycast_netlink_errors_total") == 1);
    const auto gone = client.get("/readyz");
    CHECK(gone.status == 503);
    CHECK(gone.body == "not ready: apiserver unreachable\n");
}

TEST_CASE("a slow client does not block other requests and is dropped at its deadline", "[netns]") {
    auto options = options_for("127.0.0.1:0");
    options.io_timeout = std::chrono::milliseconds(300);
    Endpoint endpoint(options);

    auto slow = endpoint.client();
    slow.send_raw("GET /metrics HTTP/1.1\r\nHost: x\r\n");  // headers never finished

    auto quick = endpoint.client();
    CHECK(quick.get("/healthz").status == 200);
    CHECK(quick.get("/metrics").status == 200);

    // The server gives up on the unfinished request and closes without an answer.
    CHECK(slow.read_until_closed().empty());
}

TEST_CASE("an oversized request gets 431 and the connection is closed", "[netns]") {
    auto options = options_for("127.0.0.1:0");
    options.max_request_bytes = 1024;
    Endpoint endpoint(options);

    auto client = endpoint.client();
    client.send_raw("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(4000, 'a') + "\r\n\r\n");
    const std::string answer = client.read_until_closed();
    CHECK(answer.starts_with("HTTP/1.1 431 "));

    auto next = endpoint.client();
    CHECK(next.get("/healthz").status == 200);
}

TEST_CASE(
    "at the connection limit a new client takes the slot of the one idle longest: idle keep-alive "
    "clients never lock out the probe",
    "[netns]") {
    auto options = options_for("127.0.0.1:0");
    options.max_connections = 3;
    Endpoint endpoint(options);

    std::vector<Client> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(endpoint.client());
        CHECK(idle.back().get("/healthz").status == 200);  // then idle, kept alive
    }
    // Every slot is held by an idle keep-alive client: the probe still gets its answer...
    auto probe = endpoint.client();
    CHECK(probe.get("/healthz").status == 200);
    // ...and the client that waited longest was closed to make room; the others still work.
    CHECK(idle[0].read_until_closed().empty());
    CHECK(idle[1].get("/healthz").status == 200);
    CHECK(idle[2].get("/healthz").status == 200);
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout, an old one after its next answer", "[netns]") {
    SECTION("idle") {
        auto options = options_for("127.0.0.1:0");
        options.idle_timeout = std::chrono::milliseconds(200);
        Endpoint endpoint(options);
        auto client = endpoint.client();
        CHECK(client.get("/healthz").status == 200);
        CHECK(client.read_until_closed().empty());  // nothing more sent: closed at the deadline
    }
    SECTION("age") {
        auto options = options_for("127.0.0.1:0");
        options.max_connection_age = std::chrono::milliseconds(200);
        Endpoint endpoint(options);
        auto client = endpoint.client();
        CHECK(client.get("/healthz").keep_alive);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto last = client.get("/healthz");
        CHECK(last.status == 200);
        CHECK_FALSE(last.keep_alive);  // Connection: close
        CHECK(client.read_until_closed().empty());
    }
}

TEST_CASE("stop closes the listener and open connections; an empty listen disables the endpoint", "[netns]") {
    Endpoint endpoint(options_for("[::1]:0"));
    auto& [netns, io, metrics, health, server] = endpoint;
    const auto port = server.port();
    Client client(io, "::1", port);
    CHECK(client.get("/healthz").status == 200);

    server.stop();
    CHECK_FALSE(server.listening());
    CHECK(server.port() == 0);
    CHECK(client.read_until_closed().empty());
    CHECK_THROWS_AS(Client(io, "::1", port), beast::system_error);
    server.stop();  // idempotent

    MetricsServer disabled(io, metrics.registry, health, options_for(""));
    CHECK_FALSE(disabled.start());
    CHECK_FALSE(disabled.listening());
    CHECK(disabled.port() == 0);
}

TEST_CASE("a port already in use is an error naming the address", "[netns]") {
    Endpoint endpoint(options_for("127.0.0.1:0"));
    auto& [netns, io, metrics, health, first] = endpoint;
    const std::string taken = "127.0.0.1:" + std::to_string(first.port());
    MetricsServer second(io, metrics.registry, health, options_for(taken));
    try {
        second.start();
        FAIL("start did not throw");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "metrics endpoint: bind " + taken + ": Address already in use");
    }
    CHECK_FALSE(second.listening());
    MetricsServer malformed(io, metrics.registry, health, options_for("localhost:9641"));
    CHECK_THROWS_AS(malformed.start(), std::invalid_argument);
}

TEST_CASE("fetch_metrics reads the endpoint, and names the address when nothing answers", "[netns]") {
    Endpoint endpoint(options_for("127.0.0.1:0"));
    auto& [netns, io, metrics, health, server] = endpoint;
    metrics.routes_ipv6.set(3);
    metrics.eligible_pods.set(4);
    const std::string listen = "127.0.0.1:" + std::to_string(server.port());

    // fetch_metrics blocks (it is for the status command), so the server's loop runs on a
    // thread of its own here; nothing touches the instruments meanwhile.
    std::thread loop([&endpoint] { endpoint.io.run(); });
    std::string body;
    std::string error;
    try {
        body = fetch_metrics(listen, std::chrono::seconds(10));
    } catch (const std::exception& e) {
        error = e.what();
    }
    asio::post(io, [&endpoint] { endpoint.server.stop(); });
    loop.join();
    INFO(error);
    REQUIRE(error.empty());
    const auto samples = parse_exposition(body);
    CHECK(samples.at("flock_anycast_routes_installed{family=\"ipv6\"}") == 3);
    CHECK(samples.at("flock_anycast_eligible_pods") == 4);

    // The server is gone: connecting is refused.
    try {
        fetch_metrics(listen, std::chrono::seconds(10));
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "scrape: connect to http://" + listen + "/metrics: Connection refused");
    }
    CHECK_THROWS_AS(fetch_metrics("", std::chrono::seconds(1)), std::runtime_error);
}

TEST_CASE("fetch_metrics gives up on an endpoint that accepts but never answers", "[netns]") {
    anycast::test::PrivateNetns netns;
    asio::io_context io;
    // Listening, never accepting: the kernel completes the handshake, nobody answers.
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const std::string listen = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    try {
        fetch_metrics(listen, std::chrono::milliseconds(200));
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        CHECK_THAT(e.what(), Catch::StartsWith("scrape: read the answer of http://" + listen + "/metrics: "));
    }
}
