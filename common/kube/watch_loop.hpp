// The list/watch loop both watchers run (pod_watcher, node_watcher), like a client-go
// reflector: list when needed, watch until the stream ends, relist after 410 Gone, back off
// after a failure; one coroutine on the caller's io_context. A watcher derives from it and
// says how to list, how to watch and what a failure means. Internal to common/kube.
#pragma once

#include "common/backoff.hpp"
#include "common/kube/kube_config.hpp"
#include "common/kube/watch_stream.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <string>

namespace anycast::common::kube {

class WatchLoop : public std::enable_shared_from_this<WatchLoop> {
public:
    // `what` names the resource in logs ("pods", "node").
    WatchLoop(boost::asio::io_context& io, KubeConfig config, std::chrono::milliseconds backoff_initial,
              std::chrono::milliseconds backoff_max, std::string what);
    virtual ~WatchLoop() = default;
    WatchLoop(const WatchLoop&) = delete;
    WatchLoop& operator=(const WatchLoop&) = delete;

    // Starts the loop (once; it keeps this object alive until it ends).
    void start();
    // Ends the loop: the backoff timer and an open watch stream are cancelled.
    void stop();

protected:
    // One full list; throws when it failed.
    virtual boost::asio::awaitable<void> list() = 0;
    // One watch (open_watch); throws when it failed.
    virtual boost::asio::awaitable<WatchEnd> watch() = 0;
    // The loop starts over after a watch ended or an attempt failed.
    virtual void restarted() {}
    // An attempt failed (the backoff follows): count it, log it.
    virtual void failed(const std::exception& error) = 0;

    // Runs one watch of `target` on a fresh stream that stop() closes.
    boost::asio::awaitable<WatchEnd> open_watch(const std::string& target, WatchStreamHooks hooks);

    KubeConfig config_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    Backoff backoff_;
    bool stopped_ = false;

private:
    boost::asio::awaitable<void> run();

    boost::asio::io_context& io_;
    std::string what_;
    boost::asio::steady_timer timer_;
    TlsStream* current_ = nullptr;  // the open watch stream, closed by stop()
    bool started_ = false;
};

}  // namespace anycast::common::kube
