// The node's own Node object, kept current like pod_watcher.hpp keeps its pods: a list of
// `metadata.name=<node>`, then a watch from the list's resourceVersion, resumed after every
// break, relisted after 410 Gone, with backoff. While the apiserver is unreachable the last
// known object stays (no change is reported). Runs on the caller's single-threaded io_context.
#pragma once

#include "common/kube/api_limits.hpp"
#include "common/kube/kube_config.hpp"
#include "common/kube/node_info.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace anycast::common::kube {

struct NodeWatcherOptions {
    std::string node;  // metadata.name to select
    std::size_t body_limit = k_default_body_limit;
    unsigned watch_timeout_seconds = 300;
    std::chrono::milliseconds request_timeout{10000};
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{30000};
};

struct NodeWatcherStats {
    unsigned lists = 0;
    unsigned watches = 0;
    unsigned failures = 0;
    unsigned gone = 0;
    unsigned malformed_lines = 0;
    std::string resource_version;
};

class NodeWatcher {
public:
    // Called on the io_context after the first list (synced), and after every list or event
    // that changed the node's drain view (NodeInfo::same_drain_view); nullopt: the node does
    // not exist (not yet, or deleted). Never after stop().
    using OnChange = std::function<void(const std::optional<NodeInfo>&)>;

    NodeWatcher(boost::asio::io_context& io, KubeConfig config, NodeWatcherOptions options, OnChange on_change);
    ~NodeWatcher();  // stops
    NodeWatcher(const NodeWatcher&) = delete;
    NodeWatcher& operator=(const NodeWatcher&) = delete;

    void start();
    void stop();

    bool synced() const;
    const std::optional<NodeInfo>& node() const;
    const NodeWatcherStats& stats() const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace anycast::common::kube
