#include "reconciler/readiness/kubernetes_source.hpp"

#include "common/log.hpp"
#include "common/config/node_config_loader.hpp"

namespace anycast::reconciler {

namespace kube = common::kube;
namespace log = common::log;

KubernetesSource::KubernetesSource(boost::asio::io_context& io, kube::KubeConfig config, kube::WatcherOptions options)
    : io_(io), config_(std::move(config)), options_(std::move(options)) {}

void KubernetesSource::start(ChangedHandler on_changed) {
    stop();
    watcher_ = std::make_unique<kube::PodWatcher>(
        io_, config_, options_,
        [this, on_changed = std::move(on_changed)](const std::vector<kube::EligibilityChange>& changes) {
            snapshot_.pods = watcher_->snapshot();
            for (const auto& change : changes) {
                log::info("pod eligibility changed",
                          {log::kv("pod", change.key),
                           log::kv("ready", change.after ? (change.after->ready ? "true" : "false") : "gone"),
                           log::kv("deleting", change.after && change.after->deleting)});
            }
            if (on_changed) on_changed();
        });
    watcher_->start();
}

void KubernetesSource::stop() {
    if (watcher_) watcher_->stop();
}

std::optional<WatchCounts> KubernetesSource::watch_counts() const {
    if (!watcher_) return WatchCounts{};
    const kube::WatcherStats& stats = watcher_->stats();
    return WatchCounts{stats.restarts, stats.lists};
}

std::unique_ptr<ReadinessSource> make_kubernetes_source(boost::asio::io_context& io, const common::NodeConfig& config) {
    kube::KubeConfig access;
    try {
        access = kube::load_kube_config(config.kubeconfig);
    } catch (const kube::KubeConfigError& e) {
        throw common::ConfigError(std::string("readiness.source kubernetes: ") + e.what());
    }
    kube::WatcherOptions options;
    options.node = config.node;
    options.annotation = config.annotation;
    return std::make_unique<KubernetesSource>(io, std::move(access), std::move(options));
}

}  // namespace anycast::reconciler
