// Where serve learns which pods may take traffic (docs/architecture.md section 6): the Kubernetes API
// (reconciler/readiness/kubernetes_source.*), a JSON file (reconciler/readiness/file_source.*) or "always".
// Sources are asynchronous and live on serve's single-threaded io_context: they never block
// it and call back on that thread only.
#pragma once

#include "common/kube/pod_cache.hpp"
#include "reconciler/pipeline/readiness_snapshot.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace anycast::reconciler {

// A watching source's trouble since it was made, for the metrics.
struct WatchCounts {
    std::uint64_t restarts = 0;  // the watch started over: it ended, expired (410) or failed
    std::uint64_t relists = 0;   // full lists fetched, the first one included
};

class ReadinessSource {
public:
    // Called on the io_context's thread whenever the snapshot may have changed (including
    // the moment the source first becomes synced). Spurious calls are harmless: serve
    // coalesces them into at most one pending pass and diffs.
    using ChangedHandler = std::function<void()>;

    virtual ~ReadinessSource() = default;

    // Begins watching (inotify, list+watch, ...); returns at once. Failures after start are
    // logged and retried by the source itself; the last good snapshot stays in force.
    virtual void start(ChangedHandler on_changed) = 0;
    // Cancels outstanding async work; no callback is made after stop() returns. Called
    // before destruction and on a config reload that replaces the source.
    virtual void stop() = 0;

    // The current state. The reference stays valid until the next callback or stop().
    virtual const ReadinessSnapshot& snapshot() const = 0;
    // True once a complete state has been seen (file read, first list done). Until then
    // serve does not apply passes: withdrawing every route because nothing is known yet
    // would drop traffic on each restart.
    virtual bool synced() const = 0;

    // "kubernetes" | "file" | "always", for logs and status.
    virtual std::string_view name() const = 0;

    // Sources that watch an API (kubernetes) count restarts and relists; others have none.
    virtual std::optional<WatchCounts> watch_counts() const { return std::nullopt; }

    // The node's pods as the apiserver last reported them (their anycast annotation kept),
    // for the CNI plugin's lookups through serve.sock; nullptr when the source does not watch
    // Kubernetes. Valid until the next callback or stop(), like snapshot().
    virtual const common::kube::PodCache* pod_cache() const { return nullptr; }
};

// The sources: KubernetesSource (kubernetes_source.hpp), FileSource (file_source.hpp) and
// AlwaysSource (always_source.hpp); readiness_factory.hpp makes the one `readiness.source`
// names.

}  // namespace anycast::reconciler
