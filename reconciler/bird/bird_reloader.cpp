#include "reconciler/bird/bird_reloader.hpp"

#include "common/log.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

BirdReloader::BirdReloader(boost::asio::io_context& io, BirdControlClient& client, BirdReloadOptions options)
    : io_(io),
      client_(client),
      options_(options),
      retry_timer_(io),
      backoff_(options.initial_backoff, options.max_backoff) {}

BirdReloader::~BirdReloader() { retry_timer_.cancel(); }

void BirdReloader::request() {
    ++stats_.requests;
    pending_ = true;
    // In flight or backing off: the pending flag makes that path reload once more.
    if (in_flight_ || retry_scheduled_) return;
    schedule_start();
}

void BirdReloader::schedule_start() {
    if (start_posted_) return;
    start_posted_ = true;
    // Posted, not started here: every request made in the same turn of the loop (a pass
    // publishing, then another trigger) shares one reload.
    boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
        if (alive.expired()) return;
        start_posted_ = false;
        start();
    });
}

void BirdReloader::start() {
    if (!pending_ || in_flight_ || retry_scheduled_) return;
    pending_ = false;
    in_flight_ = true;
    ++stats_.attempts;
    client_.async_command("configure", [this, alive = std::weak_ptr<int>(alive_)](
                                           const boost::system::error_code& error, BirdReply reply) {
        if (alive.expired()) return;
        finished(error, reply);
    });
}

void BirdReloader::finished(const boost::system::error_code& error, const BirdReply& reply) {
    in_flight_ = false;
    if (error) {
        ++stats_.transport_failures;
        stats_.last_error = error.message();
        const auto delay = backoff_.next();
        log::warn("bird reload: no answer, kernel routes stay, retrying",
                  {kv("socket", client_.socket_path()), kv("error", error.message()), kv("retryMs", delay.count())});
        pending_ = true;
        retry_later(delay);
    } else if (is_configure_success(reply.code())) {
        ++stats_.succeeded;
        stats_.last_error.clear();
        backoff_.reset();
        log::info("bird reload", {kv("code", reply.code()), kv("bird", reply.text())});
    } else {
        // BIRD keeps running its old configuration; retrying the same files would fail the
        // same way, so the next change (or restart) tries again.
        ++stats_.rejected;
        stats_.last_error = reply.text();
        backoff_.reset();
        log::error("bird reload rejected, old config keeps running",
                   {kv("code", reply.code()), kv("bird", reply.text())});
    }
    if (pending_ && !retry_scheduled_) schedule_start();
    if (on_attempt_) on_attempt_();
}

void BirdReloader::retry_later(std::chrono::milliseconds delay) {
    retry_scheduled_ = true;
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
        if (alive.expired() || ec) return;
        retry_scheduled_ = false;
        start();
    });
}

}  // namespace anycast::reconciler
