// List + watch of the node's pods (pod_watcher.hpp): the loop is watch_loop.hpp's (list when
// needed, watch until the stream ends, back off after failures); this is how pods are listed
// (pages) and what their events do to the cache.
#include "common/kube/pod_watcher.hpp"

#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"
#include "common/kube/watch_event.hpp"
#include "common/kube/watch_loop.hpp"
#include "common/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <iterator>
#include <set>
#include <optional>
#include <utility>

namespace anycast::common::kube {

namespace net = boost::asio;

namespace {

std::string excerpt(std::string_view line) {
    return std::string(line.substr(0, 120)) + (line.size() > 120 ? "..." : "");
}

}  // namespace

class PodWatcher::Impl : public WatchLoop {
public:
    Impl(net::io_context& io, KubeConfig config, WatcherOptions options, OnChange on_change)
        : WatchLoop(io, std::move(config), options.backoff_initial, options.backoff_max, "pods"),
          options_(std::move(options)),
          on_change_(std::move(on_change)) {}

    PodCache cache_;
    WatcherStats stats_;
    bool synced_ = false;

private:
    net::awaitable<void> list() override;
    net::awaitable<WatchEnd> watch() override;
    void restarted() override { ++stats_.restarts; }
    void failed(const std::exception& error) override {
        ++stats_.failures;
        // The cache stays as it is: an unreachable apiserver must not withdraw every route.
        log::warn("kubernetes pods: list/watch failed, keeping the last known pod states",
                  {log::kv("server", config_.server()), log::kv("error", error.what())});
    }
    std::optional<WatchEnd> handle_line(const std::string& line);
    void report(const std::vector<EligibilityChange>& changes) {
        if (!changes.empty() && !stopped_ && on_change_) on_change_(changes);
    }

    WatcherOptions options_;
    unsigned page_size_ = std::max(1u, options_.page_size);  // shrinks while pages are too large
    OnChange on_change_;
    bool stream_delivered_ = false;  // the current watch delivered at least one event
};

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
    stream_delivered_ = false;
    WatchStreamHooks hooks{
        .what = "pods",
        .resource_version = stats_.resource_version,
        .request_timeout = options_.request_timeout,
        .watch_timeout_seconds = options_.watch_timeout_seconds,
        .opened =
            [this] {
                ++stats_.watches;
                log::debug("kubernetes pods: watching", {log::kv("resourceVersion", stats_.resource_version)});
            },
        .line = [this](const std::string& line) { return handle_line(line); },
        .stopped = {},  // open_watch's
    };
    const WatchEnd end = co_await open_watch(
        node_pods_watch_target(options_.node, stats_.resource_version, options_.watch_timeout_seconds), hooks);
    if (stopped_) co_return WatchEnd::closed;
    if (end == WatchEnd::gone) {
        // An ERROR 410 event is counted and logged by handle_line; an HTTP 410 answer here.
        if (!stream_delivered_) {
            ++stats_.gone;
            log::info("kubernetes pods: resourceVersion too old (HTTP 410), relisting");
        }
        co_return WatchEnd::gone;
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
