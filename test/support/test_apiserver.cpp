#include "test/support/test_apiserver.hpp"

#include "common/kube/base64.hpp"
#include "test/support/apiserver_writes.hpp"
#include "test/support/process.hpp"
#include "test/support/test_apiserver_nodes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace anycast::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

// "/path?a=1&b=2" → path (as sent) and decoded parameters, '+' read as a space as the real
// apiserver (Go's url.ParseQuery) reads it. A target that does not parse is all path: 404.
std::pair<std::string, std::map<std::string, std::string>> split_target(std::string_view target) {
    std::map<std::string, std::string> params;
    const auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return {std::string(target), params};
    for (const auto& param : parsed->params(boost::urls::encoding_opts(true))) params[param.key] = param.value;
    return {std::string(parsed->encoded_path()), params};
}

json::object status_object(unsigned code, const std::string& reason, const std::string& message) {
    return json::object{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object{}},
                        {"status", "Failure"}, {"message", message}, {"reason", reason},
                        {"code", code}};
}

std::string pod_key(const json::object& pod) {
    const auto& metadata = pod.at("metadata").as_object();
    return std::string(metadata.at("namespace").as_string()) + "/" + std::string(metadata.at("name").as_string());
}

std::string pod_node(const json::object& pod) {
    const auto* spec = pod.if_contains("spec");
    if (!spec || !spec->is_object()) return {};
    const auto* node = spec->as_object().if_contains("nodeName");
    return node && node->is_string() ? std::string(node->as_string()) : std::string{};
}

std::string event_line(const std::string& type, const json::object& object) {
    return json::serialize(json::object{{"type", type}, {"object", object}}) + "\n";
}

using Stream = ssl::stream<tcp::socket>;

// One accepted connection; go_away() closes its socket from outside.
struct Connection {
    Connection(tcp::socket socket, ssl::context& tls) : stream(std::move(socket), tls) {}
    Stream stream;
};

// What a watch stream is told to do next.
struct WatchItem {
    enum Kind { line, cut, end } kind;
    std::string bytes;
};

struct WatchState {
    WatchState(net::any_io_executor executor, std::shared_ptr<Connection> c, std::string r, std::string n, bool b)
        : connection(std::move(c)), resource(std::move(r)), node(std::move(n)), bookmarks(b), wake(executor) {}
    std::shared_ptr<Connection> connection;
    std::string resource;  // "pods" | "nodes"
    std::string node;      // pods: spec.nodeName, nodes: metadata.name; "" = every node
    bool bookmarks;
    std::deque<WatchItem> queue;
    net::steady_timer wake;
    bool done = false;

    void push(WatchItem item) {
        queue.push_back(std::move(item));
        wake.cancel();
    }
};

struct HistoryEntry {
    std::uint64_t resource_version;
    std::string resource;
    std::string node;
    std::string line;
};

}  // namespace

class TestApiserver::Impl {
public:
    explicit Impl(ApiserverOptions options)
        : options_(std::move(options)), pki_(TestPki::make(options_.sans)), tls_(ssl::context::tls_server) {
        tls_.use_certificate_chain_file(pki_.cert_path);
        tls_.use_private_key_file(pki_.key_path, ssl::context::pem);
        listen(0);
        thread_ = std::thread([this] { io_.run(); });
    }

    ~Impl() {
        call([this] {
            close_everything();
            guard_.reset();
        });
        thread_.join();
    }

    // Runs `fn` on the server thread and waits for its result.
    template <typename Fn>
    auto call(Fn fn) const -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        net::post(io_, [&task] { task(); });
        return result.get();
    }

    void listen(unsigned short port) {
        acceptor_.emplace(io_);
        const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
        acceptor_->open(endpoint.protocol());
        // Asio opens sockets without close-on-exec: a child spawned meanwhile (serve!) kept
        // the listener after go_away(), so clients connected into its backlog and hung in the
        // TLS handshake, and come_back() could not bind the port again.
        ::fcntl(acceptor_->native_handle(), F_SETFD, FD_CLOEXEC);
        acceptor_->set_option(tcp::acceptor::reuse_address(true));
        acceptor_->bind(endpoint);
        acceptor_->listen();
        port_ = acceptor_->local_endpoint().port();
        net::co_spawn(io_, accept_loop(&*acceptor_), net::detached);
    }

    void close_everything() {
        if (acceptor_) acceptor_->close();
        for (auto& weak : connections_) {
            if (auto connection = weak.lock()) {
                beast::error_code ignored;
                connection->stream.next_layer().close(ignored);
            }
        }
        connections_.clear();
        for (auto& watch : watches_) watch->wake.cancel();
    }

    // --- state changes (server thread) ---
    // Any resource's change: a new resourceVersion, kept in the history, sent to matching watches.
    void record(const std::string& resource, const std::string& node, const std::string& type, json::object& object) {
        ++resource_version_;
        object["metadata"].as_object()["resourceVersion"] = std::to_string(resource_version_);
        const std::string line = event_line(type, object);
        history_.push_back({resource_version_, resource, node, line});
        for (auto& watch : watches_) {
            if (watch->resource == resource && (watch->node.empty() || watch->node == node))
                watch->push({WatchItem::line, line});
        }
    }

    void emit(const std::string& type, json::object pod) {
        record("pods", pod_node(pod), type, pod);
        if (type == "DELETED") {
            pods_.erase(pod_key(pod));
        } else {
            pods_[pod_key(pod)] = std::move(pod);
        }
    }

    void put(json::object pod) {
        const bool known = pods_.contains(pod_key(pod));
        emit(known ? "MODIFIED" : "ADDED", std::move(pod));
    }

    void cut_watches() {
        const std::string& line = history_.back().line;
        for (auto& watch : watches_) {
            // The chunk header announces the whole line; only half of it arrives.
            watch->push({WatchItem::cut, fmt::format("{:x}\r\n", line.size()) + line.substr(0, line.size() / 2)});
        }
    }

    net::awaitable<void> accept_loop(tcp::acceptor* acceptor) {
        for (;;) {
            auto [ec, socket] = co_await acceptor->async_accept(net::as_tuple(use_awaitable));
            if (ec) co_return;  // closed by go_away()
            // Close-on-exec like the listener's (listen()): a child must not hold a connection open.
            ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
            auto connection = std::make_shared<Connection>(std::move(socket), tls_);
            connections_.push_back(connection);
            net::co_spawn(io_, serve(connection), net::detached);
        }
    }

    net::awaitable<void> serve(std::shared_ptr<Connection> connection) {
        try {
            co_await connection->stream.async_handshake(ssl::stream_base::server, use_awaitable);
            beast::flat_buffer buffer;
            for (;;) {
                http::request<http::string_body> request;
                co_await http::async_read(connection->stream, buffer, request, use_awaitable);
                requests_.emplace_back(request.target());
                auto [path, params] = split_target(request.target());
                if (request[http::field::authorization] != "Bearer " + options_.token) {
                    co_await reply(*connection, http::status::unauthorized,
                                   status_object(401, "Unauthorized", "Unauthorized"));
                } else if ((path == "/api/v1/pods" || path == "/api/v1/nodes") && params["watch"] == "true") {
                    co_await watch(connection, params, path.substr(path.rfind('/') + 1));
                    co_return;
                } else if (path == "/api/v1/nodes") {
                    co_await reply(*connection, http::status::ok,
                                   nodes_.list(NodeTable::name_selector(params["fieldSelector"]),
                                               std::to_string(resource_version_)));
                } else if (path == "/api/v1/pods") {
                    co_await reply(*connection, http::status::ok, list_page(params));
                } else if (request.method() == http::verb::patch || request.method() == http::verb::post) {
                    const auto [status, body] = write(request, path);
                    co_await reply(*connection, status, body);
                } else if (path.rfind("/api/v1/namespaces/", 0) == 0 && path.find("/pods/") != std::string::npos) {
                    const auto rest = path.substr(std::string("/api/v1/namespaces/").size());
                    const auto key = rest.substr(0, rest.find('/')) + "/" + rest.substr(rest.rfind('/') + 1);
                    const auto found = pods_.find(key);
                    if (found == pods_.end()) {
                        co_await reply(
                            *connection, http::status::not_found,
                            status_object(404, "NotFound", "pods \"" + key.substr(key.find('/') + 1) + "\" not found"));
                    } else {
                        co_await reply(*connection, http::status::ok, found->second);
                    }
                } else {
                    co_await reply(*connection, http::status::not_found,
                                   status_object(404, "NotFound", "the server could not find the requested resource"));
                }
                if (!request.keep_alive()) co_return;
            }
        } catch (const std::exception&) {
            // The client went away or the test closed the connection: nothing to do.
        }
    }

    // PATCH …/pods/<name>/status and POST …/events (test/support/apiserver_writes.hpp).
    std::pair<http::status, json::object> write(const http::request<http::string_body>& request,
                                                const std::string& path) {
        const std::string content_type(request[http::field::content_type]);
        const std::string prefix = "/api/v1/namespaces/";
        const std::string rest = path.substr(std::min(path.size(), prefix.size()));
        const std::string namespace_ = rest.substr(0, rest.find('/'));
        const std::string tail = rest.substr(std::min(rest.size(), namespace_.size()));
        WriteOutcome outcome{404, "NotFound", "the server could not find the requested resource"};
        json::object answer;
        if (fail_writes_ != 0) {
            outcome = {fail_writes_, "ServiceUnavailable", "the test refuses writes"};
        } else if (!path.starts_with(prefix)) {
        } else if (request.method() == http::verb::patch && tail.starts_with("/pods/") && tail.ends_with("/status")) {
            const std::string name = tail.substr(6, tail.size() - 6 - 7);
            const auto found = pods_.find(namespace_ + "/" + name);
            if (found == pods_.end()) {
                outcome = {404, "NotFound", "pods \"" + name + "\" not found"};
            } else {
                json::object pod = found->second;
                outcome = patch_pod_status(pod, content_type, request.body());
                if (outcome.ok()) {
                    kubelet_sync_ready(pod);  // the kubelet's next status sync, at once
                    emit("MODIFIED", pod);
                    answer = pods_.at(namespace_ + "/" + name);
                }
            }
        } else if (request.method() == http::verb::post && tail == "/events") {
            json::object event;
            outcome = check_event(namespace_, content_type, request.body(), event);
            if (outcome.ok()) {
                const auto name = event.at("metadata").at("name");
                const bool taken = std::any_of(events_.begin(), events_.end(), [&](const json::object& e) {
                    return e.at("metadata").at("name") == name &&
                           e.at("metadata").at("namespace").as_string() == namespace_;
                });
                if (taken) {
                    outcome = {409, "AlreadyExists", "events " + json::serialize(name) + " already exists"};
                } else {
                    events_.push_back(event);
                    answer = event;
                }
            }
        }
        writes_.push_back({std::string(request.method_string()), std::string(request.target()), outcome.status});
        if (!outcome.ok()) answer = status_object(outcome.status, outcome.reason, outcome.message);
        return {static_cast<http::status>(outcome.status), answer};
    }

    net::awaitable<void> reply(Connection& connection, http::status status, const json::object& body) {
        http::response<http::string_body> response{status, 11};
        response.set(http::field::content_type, "application/json");
        response.body() = json::serialize(body);
        response.prepare_payload();
        co_await http::async_write(connection.stream, response, use_awaitable);
    }

    json::object list_page(std::map<std::string, std::string>& params) {
        const std::string node = node_selector(params);
        std::vector<const json::object*> matching;
        for (const auto& [key, pod] : pods_) {
            if (node.empty() || pod_node(pod) == node) matching.push_back(&pod);
        }
        std::size_t offset = 0;
        std::string list_rv = std::to_string(resource_version_);
        if (!params["continue"].empty()) {
            // Our continue token: "<resourceVersion>/<offset>".
            const auto& token = params["continue"];
            list_rv = token.substr(0, token.find('/'));
            offset = std::stoul(token.substr(token.find('/') + 1));
        }
        const std::size_t limit = params["limit"].empty() ? matching.size() : std::stoul(params["limit"]);
        json::array items;
        for (std::size_t i = offset; i < matching.size() && i < offset + limit; ++i) items.push_back(*matching[i]);
        json::object metadata{{"resourceVersion", list_rv}};
        if (continue_mode_ == ContinueMode::repeat) {
            metadata["continue"] = list_rv + "/" + std::to_string(std::min(limit, matching.size()));
        } else if (continue_mode_ == ContinueMode::endless || offset + limit < matching.size()) {
            metadata["continue"] = list_rv + "/" + std::to_string(offset + limit);
            if (offset + limit < matching.size()) metadata["remainingItemCount"] = matching.size() - offset - limit;
        }
        return json::object{{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", metadata}, {"items", items}};
    }

    static std::string node_selector(std::map<std::string, std::string>& params) {
        const std::string prefix = "spec.nodeName=";
        const auto& selector = params["fieldSelector"];
        return selector.rfind(prefix, 0) == 0 ? selector.substr(prefix.size()) : std::string{};
    }

    net::awaitable<void> watch(std::shared_ptr<Connection> connection, std::map<std::string, std::string>& params,
                               std::string resource) {
        http::response<http::empty_body> response{http::status::ok, 11};
        response.set(http::field::content_type, "application/json");
        response.chunked(true);
        http::response_serializer<http::empty_body> serializer{response};
        co_await http::async_write_header(connection->stream, serializer, use_awaitable);

        const std::uint64_t from =
            params["resourceVersion"].empty() ? resource_version_ : std::stoull(params["resourceVersion"]);
        if (from < compacted_) {
            const auto line = event_line(
                "ERROR",
                status_object(410, "Expired", fmt::format("too old resource version: {} ({})", from, compacted_)));
            co_await net::async_write(connection->stream, http::make_chunk(net::buffer(line)), use_awaitable);
            co_await net::async_write(connection->stream, http::make_chunk_last(), use_awaitable);
            co_return;
        }
        const std::string selected =
            resource == "nodes" ? NodeTable::name_selector(params["fieldSelector"]) : node_selector(params);
        auto state = std::make_shared<WatchState>(io_.get_executor(), connection, resource, selected,
                                                  params["allowWatchBookmarks"] == "true");
        for (const auto& entry : history_) {
            if (entry.resource_version > from && entry.resource == resource &&
                (state->node.empty() || state->node == entry.node)) {
                state->queue.push_back({WatchItem::line, entry.line});
            }
        }
        watches_.push_back(state);
        struct Unregister {
            Impl* impl;
            std::shared_ptr<WatchState> state;
            ~Unregister() { std::erase(impl->watches_, state); }
        } unregister{this, state};

        for (;;) {
            while (!state->queue.empty()) {
                WatchItem item = std::move(state->queue.front());
                state->queue.pop_front();
                switch (item.kind) {
                    case WatchItem::line:
                        co_await net::async_write(connection->stream, http::make_chunk(net::buffer(item.bytes)),
                                                  use_awaitable);
                        break;
                    case WatchItem::cut: {
                        co_await net::async_write(connection->stream, net::buffer(item.bytes), use_awaitable);
                        beast::error_code ignored;
                        connection->stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
                        connection->stream.next_layer().close(ignored);
                        co_return;
                    }
                    case WatchItem::end:
                        co_await net::async_write(connection->stream, http::make_chunk_last(), use_awaitable);
                        co_return;
                }
            }
            if (!connection->stream.next_layer().is_open()) co_return;
            state->wake.expires_at(net::steady_timer::time_point::max());
            co_await state->wake.async_wait(net::as_tuple(use_awaitable));
        }
    }

    ApiserverOptions options_;
    TestPki pki_;
    mutable net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(io_);
    ssl::context tls_;
    std::optional<tcp::acceptor> acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;

    std::map<std::string, json::object> pods_;
    NodeTable nodes_;
    std::vector<HistoryEntry> history_;
    std::uint64_t resource_version_ = 1000;
    std::uint64_t compacted_ = 0;
    ContinueMode continue_mode_ = ContinueMode::honest;
    std::vector<std::shared_ptr<WatchState>> watches_;
    std::vector<std::weak_ptr<Connection>> connections_;
    std::vector<std::string> requests_;
    std::vector<json::object> events_;
    std::vector<ApiWrite> writes_;
    unsigned fail_writes_ = 0;
};

TestApiserver::TestApiserver(ApiserverOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TestApiserver::~TestApiserver() = default;

unsigned short TestApiserver::port() const { return impl_->port_; }
const TestPki& TestApiserver::pki() const { return impl_->pki_; }

common::kube::KubeConfig TestApiserver::client_config(std::optional<std::string> token) const {
    common::kube::KubeConfig config;
    config.host = "127.0.0.1";
    config.port = std::to_string(port());
    config.ca_pem = impl_->pki_.ca_pem;
    config.token = common::kube::BearerToken::fixed(token.value_or(impl_->options_.token));
    return config;
}

std::string TestApiserver::write_kubeconfig(const std::string& path, std::optional<std::string> token) const {
    const std::string ca_data = common::kube::base64_encode(impl_->pki_.ca_pem);
    std::ofstream(path) << fmt::format(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        "clusters:\n- name: test\n  cluster:\n    server: https://127.0.0.1:{}\n    certificate-authority-data: {}\n"
        "contexts:\n- name: test\n  context:\n    cluster: test\n    user: agent\n"
        "users:\n- name: agent\n  user:\n    token: {}\n",
        port(), ca_data, token.value_or(impl_->options_.token));
    return path;
}

void TestApiserver::put_pod(json::object pod) {
    impl_->call([&] { impl_->put(std::move(pod)); });
}

void TestApiserver::delete_pod(const std::string& namespace_, const std::string& name) {
    impl_->call([&] {
        const auto found = impl_->pods_.find(namespace_ + "/" + name);
        if (found != impl_->pods_.end()) impl_->emit("DELETED", found->second);
    });
}

void TestApiserver::put_node(json::object node) {
    impl_->call([&] {
        const std::string name = NodeTable::name(node);
        impl_->record("nodes", name, impl_->nodes_.find(name) ? "MODIFIED" : "ADDED", node);
        impl_->nodes_.apply("MODIFIED", std::move(node));
    });
}

void TestApiserver::delete_node(const std::string& name) {
    impl_->call([&] {
        if (const auto* found = impl_->nodes_.find(name)) {
            json::object node = *found;
            impl_->record("nodes", name, "DELETED", node);
            impl_->nodes_.apply("DELETED", std::move(node));
        }
    });
}

void TestApiserver::change_elsewhere() {
    impl_->call([&] { ++impl_->resource_version_; });
}

void TestApiserver::send_bookmark() {
    impl_->call([&] {
        const json::object object{
            {"kind", "Pod"},
            {"apiVersion", "v1"},
            {"metadata", json::object{{"resourceVersion", std::to_string(impl_->resource_version_)},
                                      {"creationTimestamp", nullptr}}},
            {"spec", json::object{{"containers", nullptr}}},
            {"status", json::object{}}};
        const auto line = event_line("BOOKMARK", object);
        for (auto& watch : impl_->watches_) {
            if (watch->bookmarks) watch->push({WatchItem::line, line});
        }
    });
}

void TestApiserver::send_raw(const std::string& bytes) {
    impl_->call([&] {
        for (auto& watch : impl_->watches_) watch->push({WatchItem::line, bytes});
    });
}

void TestApiserver::put_pod_cut_mid_event(json::object pod) {
    impl_->call([&] {
        // Only open watches see the cut; a watch opened later replays the whole event.
        auto watches = impl_->watches_;
        impl_->watches_.clear();
        impl_->put(std::move(pod));
        impl_->watches_ = std::move(watches);
        impl_->cut_watches();
    });
}

void TestApiserver::end_watches() {
    impl_->call([&] {
        for (auto& watch : impl_->watches_) watch->push({WatchItem::end, {}});
    });
}

void TestApiserver::compact() {
    impl_->call([&] {
        impl_->compacted_ = impl_->resource_version_;
        impl_->history_.clear();
    });
}

void TestApiserver::set_continue_mode(ContinueMode mode) {
    impl_->call([&] { impl_->continue_mode_ = mode; });
}

void TestApiserver::go_away() {
    impl_->call([&] { impl_->close_everything(); });
}

void TestApiserver::come_back() {
    impl_->call([&] { impl_->listen(impl_->port_); });
}

std::size_t TestApiserver::open_watches(const std::string& resource) const {
    return impl_->call([&] {
        return static_cast<std::size_t>(std::count_if(impl_->watches_.begin(), impl_->watches_.end(),
                                                      [&](const auto& watch) { return watch->resource == resource; }));
    });
}

std::vector<std::string> TestApiserver::requests() const {
    return impl_->call([&] { return impl_->requests_; });
}

std::vector<json::object> TestApiserver::events() const {
    return impl_->call([&] { return impl_->events_; });
}

void TestApiserver::fail_writes(unsigned status) {
    impl_->call([&] { impl_->fail_writes_ = status; });
}

std::vector<ApiWrite> TestApiserver::writes() const {
    return impl_->call([&] { return impl_->writes_; });
}

std::optional<json::object> TestApiserver::pod(const std::string& namespace_, const std::string& name) const {
    return impl_->call([&]() -> std::optional<json::object> {
        const auto found = impl_->pods_.find(namespace_ + "/" + name);
        if (found == impl_->pods_.end()) return std::nullopt;
        return found->second;
    });
}

std::string TestApiserver::resource_version() const {
    return impl_->call([&] { return std::to_string(impl_->resource_version_); });
}

}  // namespace anycast::test
