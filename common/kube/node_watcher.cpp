// List + watch of the node's Node object (node_watcher.hpp): the loop is watch_loop.hpp's and
// the stream watch_stream.hpp's, as for pods; this is how the one node is listed and what its
// events report.
#include "common/kube/node_watcher.hpp"

#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"
#include "common/kube/watch_event.hpp"
#include "common/kube/watch_loop.hpp"
#include "common/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <utility>

namespace anycast::common::kube {

namespace net = boost::asio;
using log::kv;

class NodeWatcher::Impl : public WatchLoop {
public:
    Impl(net::io_context& io, KubeConfig config, NodeWatcherOptions options, OnChange on_change)
        : WatchLoop(io, std::move(config), options.backoff_initial, options.backoff_max, "node"),
          options_(std::move(options)),
          on_change_(std::move(on_change)) {}

    std::optional<NodeInfo> node_;
    NodeWatcherStats stats_;
    bool synced_ = false;

private:
    net::awaitable<void> list() override;
    net::awaitable<WatchEnd> watch() override;
    void failed(const std::exception& error) override {
        ++stats_.failures;
        // Like the pods: an unreachable apiserver changes nothing, the last known node stays.
        log::warn("kubernetes node: list/watch failed, keeping the last known node state",
                  {kv("server", config_.server()), kv("node", options_.node), kv("error", error.what())});
    }
    std::optional<WatchEnd> handle_line(const std::string& line);
    // Takes `node` as the current state; reports it when the drain view changed (or `force`).
    void update(std::optional<NodeInfo> node, bool force = false) {
        const bool changed = node.has_value() != node_.has_value() || (node && !node->same_drain_view(*node_));
        node_ = std::move(node);
        if ((changed || force) && !stopped_ && on_change_) on_change_(node_);
    }

    NodeWatcherOptions options_;
    OnChange on_change_;
    bool stream_delivered_ = false;  // the current watch delivered at least one event
};

net::awaitable<void> NodeWatcher::Impl::list() {
    const ApiResponse response = co_await async_api_get(config_, *tls_, node_list_target(options_.node),
                                                        options_.request_timeout, options_.body_limit);
    if (stopped_) co_return;
    if (response.status != 200)
        throw std::runtime_error("list node: HTTP " + std::to_string(response.status) + ": " +
                                 api_status_message(response));
    NodeList list = parse_node_list(response.body);
    if (list.resource_version.empty()) throw std::runtime_error("list node: no metadata.resourceVersion in the answer");
    std::optional<NodeInfo> node;
    for (auto& item : list.nodes) {
        if (item.name == options_.node) node = std::move(item);
    }
    if (!node) log::warn("kubernetes node: no Node object of this name", {kv("node", options_.node)});
    stats_.resource_version = std::move(list.resource_version);
    ++stats_.lists;
    backoff_.reset();
    log::info("kubernetes node listed", {kv("node", options_.node), kv("resourceVersion", stats_.resource_version)});
    update(std::move(node), !std::exchange(synced_, true));  // the first list is news: synced
}

net::awaitable<WatchEnd> NodeWatcher::Impl::watch() {
    stream_delivered_ = false;
    WatchStreamHooks hooks{
        .what = "node",
        .resource_version = stats_.resource_version,
        .request_timeout = options_.request_timeout,
        .watch_timeout_seconds = options_.watch_timeout_seconds,
        .opened = [this] { ++stats_.watches; },
        .line = [this](const std::string& line) { return handle_line(line); },
        .stopped = {},  // open_watch's
    };
    const WatchEnd end = co_await open_watch(
        node_watch_target(options_.node, stats_.resource_version, options_.watch_timeout_seconds), hooks);
    if (stopped_) co_return WatchEnd::closed;
    if (end == WatchEnd::gone) {
        ++stats_.gone;
        log::info("kubernetes node: resourceVersion too old (410 Gone), relisting", {kv("node", options_.node)});
        co_return WatchEnd::gone;
    }
    // A stream that ends before saying anything is not a healthy timeout: back off.
    if (!stream_delivered_) throw std::runtime_error("node watch stream ended without any event");
    co_return WatchEnd::closed;
}

std::optional<WatchEnd> NodeWatcher::Impl::handle_line(const std::string& line) {
    NodeInfo node;
    WatchEnvelope event;
    try {
        event = parse_watch_envelope(line, [&](const boost::json::value& object) {
            node = parse_node(object);
            return node.resource_version;
        });
    } catch (const std::exception& e) {
        ++stats_.malformed_lines;
        log::warn("kubernetes node: malformed watch event skipped",
                  {kv("error", e.what()), kv("line", line.substr(0, 120))});
        return std::nullopt;
    }
    stream_delivered_ = true;
    backoff_.reset();
    if (event.type == WatchEventType::error) {
        if (event.error_code == 410) return WatchEnd::gone;
        throw std::runtime_error("node watch ERROR event " + std::to_string(event.error_code) + ": " +
                                 event.error_message);
    }
    stats_.resource_version = event.resource_version;
    // The field selector sends only our node; the name check guards against a server ignoring it.
    if (event.type == WatchEventType::bookmark || node.name != options_.node) return std::nullopt;
    if (event.type == WatchEventType::deleted) {
        log::warn("kubernetes node: Node object deleted", {kv("node", options_.node)});
        update(std::nullopt);
    } else {
        update(std::move(node));
    }
    return std::nullopt;
}

NodeWatcher::NodeWatcher(net::io_context& io, KubeConfig config, NodeWatcherOptions options, OnChange on_change)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(options), std::move(on_change))) {}

NodeWatcher::~NodeWatcher() { impl_->stop(); }

void NodeWatcher::start() { impl_->start(); }
void NodeWatcher::stop() { impl_->stop(); }
bool NodeWatcher::synced() const { return impl_->synced_; }
const std::optional<NodeInfo>& NodeWatcher::node() const { return impl_->node_; }
const NodeWatcherStats& NodeWatcher::stats() const { return impl_->stats_; }

}  // namespace anycast::common::kube
