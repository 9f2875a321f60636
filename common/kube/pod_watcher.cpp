// List + watch of the node's pods (pod_watcher.hpp). One coroutine per watcher: list when
// needed, watch until the stream ends, decide how to go on, back off after failures.
#include "common/kube/pod_watcher.hpp"

#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"
#include "common/backoff.hpp"
#include "common/kube/tls_stream.hpp"
#include "common/kube/watch_event.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <set>
#include <optional>
#include <utility>

namespace anycast::common::kube {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::use_awaitable;

namespace {

// How one watch stream ended.
enum class WatchEnd {
    closed,  // the server ended it cleanly (timeoutSeconds): resume at once
    gone,    // 410: the resourceVersion is compacted away: relist
};

// A watch is allowed this much longer than its server-side timeout before we call it dead.
constexpr std::chrono::seconds k_watch_grace{30};

std::string excerpt(std::string_view line) {
    return std::string(line.substr(0, 120)) + (line.size() > 120 ? "..." : "");
}

}  // namespace

class PodWatcher::Impl : public std::enable_shared_from_this<Impl> {
public:
    Impl(net::io_context& io, KubeConfig config, WatcherOptions options, OnChange on_change)
        : io_(io),
          config_(std::move(config)),
          options_(std::move(options)),
          on_change_(std::move(on_change)),
          tls_(make_tls_context(config_)),
          backoff_(options_.backoff_initial, options_.backoff_max),
          timer_(io) {}

    void start() {
        if (started_) return;
        started_ = true;
        net::co_spawn(io_, run(), [](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                log::error("kubernetes pod watcher ended unexpectedly", {log::kv("error", e.what())});
            }
        });
    }

    void stop() {
        if (stopped_) return;
        stopped_ = true;
        timer_.cancel();
        if (current_ != nullptr) beast::get_lowest_layer(*current_).close();
    }

    PodCache cache_;
    WatcherStats stats_;
    bool synced_ = false;

private:
    net::awaitable<void> run();
    net::awaitable<void> list();
    net::awaitable<WatchEnd> watch();
    std::optional<WatchEnd> handle_line(const std::string& line);
    void report(const std::vector<EligibilityChange>& changes) {
        if (!changes.empty() && !stopped_ && on_change_) on_change_(changes);
    }

    net::io_context& io_;
    KubeConfig config_;
    WatcherOptions options_;
    unsigned page_size_ = std::max(1u, options_.page_size);  // shrinks while pages are too large
    OnChange on_change_;
    std::shared_ptr<net::ssl::context> tls_;
    Backoff backoff_;
    net::steady_timer timer_;
    TlsStream* current_ = nullptr;  // the open watch stream, closed by stop()
    bool started_ = false;
    bool stopped_ = false;
    bool stream_delivered_ = false;  // the current watch delivered at least one event
};

net::awaitable<void> PodWatcher::Impl::run() {
    const auto self = shared_from_this();  // outlive the PodWatcher until the loop ends
    bool need_list = true;
    bool first = true;
    while (!stopped_) {
        if (!std::exchange(first, false)) ++stats_.restarts;
        try {
            if (need_list) {
                co_await list();
                need_list = false;
            }
            if (stopped_) break;
            const WatchEnd end = co_await watch();
            if (end == WatchEnd::gone) need_list = true;
            continue;
        } catch (const std::exception& e) {
            if (stopped_) break;
            ++stats_.failures;
            // The cache stays as it is: an unreachable apiserver must not withdraw every route.
            log::warn("kubernetes pods: list/watch failed, keeping the last known pod states",
                      {log::kv("server", config_.server()), log::kv("error", e.what())});
        }
        const auto delay = backoff_.next();
        log::debug("kubernetes pods: retrying", {log::kv("delayMs", delay.count())});
        timer_.expires_after(delay);
        co_await timer_.async_wait(net::as_tuple(use_awaitable));
    }
}

// Pages of at most page_size_ pods, each body at most page_bytes_limit: a page over it is
// asked for again with half as many pods (the continue token stays valid), and the smaller
// size is kept for later lists. The whole list is bounded in pages and bytes, and a continue
// token seen twice is a loop: either fails this attempt (backoff, retry), never spins.
net::awaitable<void> PodWatcher::Impl::list() {
    std::vector<PodInfo> pods;
    std::string continue_token;
    std::string resource_version;
    std::set<std::string> tokens_seen;
    std::size_t list_bytes = 0;
    unsigned pages = 0;
    for (;;) {
        if (pages >= options_.max_list_pages) {
            throw std::runtime_error("list pods: still not complete after " + std::to_string(pages) +
                                     " pages; giving up on this list");
        }
        const std::string target = node_pods_list_target(options_.node, page_size_, continue_token);
        ApiResponse response;
        try {
            response =
                co_await async_api_get(config_, *tls_, target, options_.request_timeout, options_.page_bytes_limit);
        } catch (const ApiBodyTooLargeError& e) {
            if (page_size_ <= 1)
                throw std::runtime_error(std::string("list pods: one pod per page is too large: ") + e.what());
            page_size_ = std::max(1u, page_size_ / 2);
            log::warn("kubernetes pods: list page too large, asking for fewer pods per page",
                      {log::kv("limitBytes", options_.page_bytes_limit), log::kv("pageSize", page_size_)});
            continue;
        }
        if (stopped_) co_return;
        if (response.status != 200) {
            throw std::runtime_error("list pods: HTTP " + std::to_string(response.status) + ": " +
                                     api_status_message(response));
        }
        list_bytes += response.body.size();
        if (list_bytes > options_.list_bytes_limit) {
            throw std::runtime_error("list pods: the pages add up to more than " +
                                     std::to_string(options_.list_bytes_limit) + " bytes; giving up on this list");
        }
        PodListPage page = parse_pod_list(response.body, options_.annotation);
        response.body = {};  // the page's text goes before the next one comes
        for (const auto& error : page.skipped)
            log::warn("kubernetes pods: list item skipped", {log::kv("error", error)});
        pods.insert(pods.end(), std::make_move_iterator(page.pods.begin()), std::make_move_iterator(page.pods.end()));
        resource_version = std::move(page.resource_version);
        continue_token = std::move(page.continue_token);
        ++pages;
        if (continue_token.empty()) break;
        if (!tokens_seen.insert(continue_token).second) {
            throw std::runtime_error("list pods: the apiserver sent continue token \"" + excerpt(continue_token) +
                                     "\" twice; giving up on this list");
        }
    }
    if (resource_version.empty()) throw std::runtime_error("list pods: no metadata.resourceVersion in the answer");

    const auto changes = cache_.replace(std::move(pods));
    const bool first_sync = !synced_;
    stats_.resource_version = resource_version;
    ++stats_.lists;
    synced_ = true;
    backoff_.reset();
    log::info("kubernetes pods listed", {log::kv("node", options_.node), log::kv("pods", cache_.size()),
                                         log::kv("pages", pages), log::kv("resourceVersion", resource_version)});
    // The first list is reported even when it changed nothing: "synced" is news too.
    if (first_sync) {
        if (!stopped_ && on_change_) on_change_(changes);
    } else {
        report(changes);
    }
}

net::awaitable<WatchEnd> PodWatcher::Impl::watch() {
    auto executor = co_await net::this_coro::executor;
    TlsStream stream(executor, *tls_);
    current_ = &stream;
    struct Forget {
        TlsStream*& current;
        ~Forget() { current = nullptr; }
    } forget{current_};

    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(options_.request_timeout);
    co_await async_open(stream, config_);
    const std::string target =
        node_pods_watch_target(options_.node, stats_.resource_version, options_.watch_timeout_seconds);
    const auto request = make_get(config_, target);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a watch is an endless body
    {
        auto [ec, n] = co_await http::async_write(stream, request, net::as_tuple(use_awaitable));
        if (!ec)
            std::tie(ec, n) = co_await http::async_read_header(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (ec) throw ApiTransportError("watch pods at " + config_.server() + ": " + ec.message(), false);
    }
    const unsigned status = parser.get().result_int();

    // The server's silence is bounded by its own timeout; past that (plus grace) it is dead.
    tcp.expires_after(std::chrono::seconds(options_.watch_timeout_seconds) + k_watch_grace);
    std::array<char, 16384> chunk;
    std::string refusal;    // the body of a non-200 answer
    LineSplitter splitter;  // per stream: a line cut by a broken stream is dropped with it
    std::vector<std::string> lines;
    stream_delivered_ = false;
    if (status == 200) {
        ++stats_.watches;
        log::debug("kubernetes pods: watching", {log::kv("resourceVersion", stats_.resource_version)});
    }
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, net::as_tuple(use_awaitable));
        if (stopped_) co_return WatchEnd::closed;
        if (ec && ec != http::error::need_buffer) {
            throw ApiTransportError("watch stream from " + config_.server() + " broken: " + ec.message() +
                                        " (resuming from resourceVersion " + stats_.resource_version + ")",
                                    false);
        }
        const std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
        if (status != 200) {
            if (refusal.size() < 65536) refusal.append(got);
            continue;
        }
        lines.clear();
        splitter.append(got, lines);
        for (const auto& line : lines) {
            if (auto end = handle_line(line)) co_return *end;
            if (stopped_) co_return WatchEnd::closed;
        }
    }
    if (status == 410) {
        ++stats_.gone;
        log::info("kubernetes pods: resourceVersion too old (HTTP 410), relisting");
        co_return WatchEnd::gone;
    }
    if (status != 200) {
        throw std::runtime_error("watch pods: HTTP " + std::to_string(status) + ": " +
                                 api_status_message(ApiResponse{.status = status, .body = refusal}));
    }
    // A stream that ends before saying anything is not a healthy timeout: back off.
    if (!stream_delivered_) throw std::runtime_error("watch stream ended without any event");
    log::debug("kubernetes pods: watch ended by the server, resuming",
               {log::kv("resourceVersion", stats_.resource_version)});
    co_return WatchEnd::closed;
}

std::optional<WatchEnd> PodWatcher::Impl::handle_line(const std::string& line) {
    WatchEvent event;
    try {
        event = parse_watch_event(line, options_.annotation);
    } catch (const std::exception& e) {
        ++stats_.malformed_lines;
        log::warn("kubernetes pods: malformed watch event skipped",
                  {log::kv("error", e.what()), log::kv("line", excerpt(line))});
        return std::nullopt;
    }
    stream_delivered_ = true;
    backoff_.reset();
    switch (event.type) {
        case WatchEventType::added:
        case WatchEventType::modified:
            stats_.resource_version = event.resource_version;
            report(cache_.upsert(std::move(event.pod)));
            break;
        case WatchEventType::deleted:
            stats_.resource_version = event.resource_version;
            report(cache_.remove(event.pod.key()));
            break;
        case WatchEventType::bookmark: stats_.resource_version = event.resource_version; break;
        case WatchEventType::error:
            if (event.error_code == 410) {
                ++stats_.gone;
                log::info("kubernetes pods: watch history expired (410 Gone), relisting",
                          {log::kv("message", event.error_message)});
                return WatchEnd::gone;
            }
            throw std::runtime_error("watch ERROR event " + std::to_string(event.error_code) + ": " +
                                     event.error_message);
    }
    return std::nullopt;
}

PodWatcher::PodWatcher(net::io_context& io, KubeConfig config, WatcherOptions options, OnChange on_change)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(options), std::move(on_change))) {}

PodWatcher::~PodWatcher() { impl_->stop(); }

void PodWatcher::start() { impl_->start(); }
void PodWatcher::stop() { impl_->stop(); }
std::vector<PodState> PodWatcher::snapshot() const { return impl_->cache_.snapshot(); }
const PodCache& PodWatcher::cache() const { return impl_->cache_; }
bool PodWatcher::synced() const { return impl_->synced_; }
const WatcherStats& PodWatcher::stats() const { return impl_->stats_; }

}  // namespace anycast::common::kube
