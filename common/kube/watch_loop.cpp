#include "common/kube/watch_loop.hpp"

#include "common/kube/api_request.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <utility>

namespace anycast::common::kube {

namespace net = boost::asio;
namespace beast = boost::beast;
using net::use_awaitable;

WatchLoop::WatchLoop(net::io_context& io, KubeConfig config, std::chrono::milliseconds backoff_initial,
                     std::chrono::milliseconds backoff_max, std::string what)
    : config_(std::move(config)),
      tls_(make_tls_context(config_)),
      backoff_(backoff_initial, backoff_max),
      io_(io),
      what_(std::move(what)),
      timer_(io) {}

void WatchLoop::start() {
    if (std::exchange(started_, true)) return;
    net::co_spawn(io_, run(), [what = what_](std::exception_ptr error) {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            log::error("kubernetes " + what + " watcher ended unexpectedly", {log::kv("error", e.what())});
        }
    });
}

void WatchLoop::stop() {
    if (std::exchange(stopped_, true)) return;
    timer_.cancel();
    if (current_ != nullptr) beast::get_lowest_layer(*current_).close();
}

net::awaitable<void> WatchLoop::run() {
    const auto self = shared_from_this();  // outlive the watcher until the loop ends
    bool need_list = true;
    bool first = true;
    while (!stopped_) {
        if (!std::exchange(first, false)) restarted();
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
            failed(e);
        }
        const auto delay = backoff_.next();
        log::debug("kubernetes " + what_ + ": retrying", {log::kv("delayMs", delay.count())});
        timer_.expires_after(delay);
        co_await timer_.async_wait(net::as_tuple(use_awaitable));
    }
}

net::awaitable<WatchEnd> WatchLoop::open_watch(const std::string& target, WatchStreamHooks hooks) {
    TlsStream stream(co_await net::this_coro::executor, *tls_);
    current_ = &stream;
    struct Forget {
        TlsStream*& current;
        ~Forget() { current = nullptr; }
    } forget{current_};
    hooks.stopped = [this] { return stopped_; };
    co_return co_await async_watch_stream(stream, config_, target, hooks);
}

}  // namespace anycast::common::kube
