// One watch stream of any resource, shared by the pod and node watchers: open, GET the watch
// target, feed each event line to the caller until the stream ends. Internal to common/kube
// (it pulls in Beast through tls_stream.hpp).
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/tls_stream.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace anycast::common::kube {

// How one watch stream ended.
enum class WatchEnd {
    closed,  // the server ended it cleanly (timeoutSeconds), or the watcher stopped: resume at once
    gone,    // 410: the resourceVersion is compacted away: relist
};

struct WatchStreamHooks {
    std::string what;              // "pods", "node": for error messages
    std::string resource_version;  // where the target resumes: for error messages
    std::chrono::milliseconds request_timeout{10000};
    unsigned watch_timeout_seconds = 300;  // the target's timeoutSeconds
    std::function<void()> opened;          // HTTP 200: events follow
    // One event line; a value ends the stream with it.
    std::function<std::optional<WatchEnd>(const std::string&)> line;
    std::function<bool()> stopped;  // checked after every read: true ends the stream as closed
};

// Runs one watch of `target` on `stream` (fresh, not yet connected). HTTP 410 is `gone`; a
// broken stream throws ApiTransportError, another refusal std::runtime_error with the
// apiserver's message. A clean end is `closed`: whether the stream said anything is the
// caller's to judge.
boost::asio::awaitable<WatchEnd> async_watch_stream(TlsStream& stream, KubeConfig& config, const std::string& target,
                                                    const WatchStreamHooks& hooks);

}  // namespace anycast::common::kube
