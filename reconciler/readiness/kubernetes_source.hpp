// The `kubernetes` readiness source: the node's pods from the apiserver (list + watch with
// fieldSelector=spec.nodeName=<node>, common/kube/pod_watcher.hpp). Serve is told only when
// some pod's eligibility changed; while the apiserver is unreachable the last known state
// stays in force.
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/pod_watcher.hpp"
#include "common/config/node_config.hpp"
#include "reconciler/readiness/readiness_source.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace anycast::reconciler {

class KubernetesSource : public ReadinessSource {
public:
    KubernetesSource(boost::asio::io_context& io, common::kube::KubeConfig config,
                     common::kube::WatcherOptions options);

    void start(ChangedHandler on_changed) override;
    void stop() override;
    const ReadinessSnapshot& snapshot() const override { return snapshot_; }
    bool synced() const override { return watcher_ && watcher_->synced(); }
    std::string_view name() const override { return "kubernetes"; }
    std::optional<WatchCounts> watch_counts() const override;
    const common::kube::PodCache* pod_cache() const override { return watcher_ ? &watcher_->cache() : nullptr; }

    const common::kube::PodWatcher* watcher() const { return watcher_.get(); }

private:
    boost::asio::io_context& io_;
    common::kube::KubeConfig config_;
    common::kube::WatcherOptions options_;
    std::unique_ptr<common::kube::PodWatcher> watcher_;
    ReadinessSnapshot snapshot_;
};

// The node config's Kubernetes access (`kubeconfig`, or in-cluster when empty) and node
// name; ConfigError when the kubeconfig or service account cannot be loaded.
std::unique_ptr<ReadinessSource> make_kubernetes_source(boost::asio::io_context& io, const common::NodeConfig& config);

}  // namespace anycast::reconciler
