// The node's pods, kept current like a client-go informer: a paginated list, then a watch
// from the list's resourceVersion, resumed after every break, relisted after 410 Gone.
// Runs on the caller's single-threaded io_context; reports eligibility changes only.
#pragma once

#include "common/kube/api_limits.hpp"
#include "common/kube/kube_config.hpp"
#include "common/kube/pod_cache.hpp"
#include "common/pod_state.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace anycast::common::kube {

struct WatcherOptions {
    std::string node;                                     // spec.nodeName to select
    unsigned page_size = 500;                             // list `limit`, halved while a page is too large
    std::size_t page_bytes_limit = k_default_body_limit;  // one list page's body
    std::size_t list_bytes_limit = 256 << 20;             // all pages of one list together
    unsigned max_list_pages = 10000;                      // an apiserver that never stops paging
    std::string annotation{k_ips_annotation};             // the one annotation the cache keeps
    unsigned watch_timeout_seconds = 300;                 // the watch's server-side `timeoutSeconds`
    std::chrono::milliseconds request_timeout{10000};     // connect + TLS + one list page
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{30000};
};

// Counters for metrics and tests.
struct WatcherStats {
    unsigned lists = 0;            // completed full lists (all pages)
    unsigned watches = 0;          // watch streams opened (HTTP 200)
    unsigned failures = 0;         // attempts that failed (unreachable, refused, broken)
    unsigned gone = 0;             // 410 Gone seen: history compacted, relist
    unsigned restarts = 0;         // the list/watch loop started over: a watch ended or an attempt failed
    unsigned malformed_lines = 0;  // event lines skipped
    std::string resource_version;  // where the next watch resumes
};

class PodWatcher {
public:
    // Called on the io_context after each list or event that changed some pod's
    // eligibility, with those changes, and once after the first list even if it changed
    // nothing (the watcher is synced now); never after stop().
    using OnChange = std::function<void(const std::vector<EligibilityChange>&)>;

    PodWatcher(boost::asio::io_context& io, KubeConfig config, WatcherOptions options, OnChange on_change);
    ~PodWatcher();  // stops
    PodWatcher(const PodWatcher&) = delete;
    PodWatcher& operator=(const PodWatcher&) = delete;

    void start();
    // Ends the list/watch loop; the cache keeps its last state.
    void stop();

    // Eligibility view of every known pod of this node (the reconciler's input).
    std::vector<PodState> snapshot() const;
    const PodCache& cache() const;
    // True once the first full list has completed: before that, "unknown" means "not listed
    // yet", not "gone".
    bool synced() const;
    const WatcherStats& stats() const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace anycast::common::kube
