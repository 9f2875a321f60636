// Asks BIRD to re-read its configuration (`configure`) after the include changed, with the
// rules of docs/architecture.md section 7: requests coalesce (a burst of changes, or changes made while
// a reload is in flight, give one more reload, which reads the latest file); BIRD absent,
// restarting or hung → retried with exponential backoff; a config BIRD rejects (8xxx/9xxx)
// is logged with BIRD's own text and not retried (the old config keeps running; the next
// change triggers a new attempt).
#pragma once

#include "common/backoff.hpp"
#include "reconciler/bird/bird_control_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace anycast::reconciler {

struct BirdReloadOptions {
    // The first retry after `initial_backoff`, then doubling (with jitter) up to `max_backoff`.
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{10000};
};

struct BirdReloadStats {
    std::uint64_t requests = 0;            // request() calls
    std::uint64_t attempts = 0;            // `configure` commands started
    std::uint64_t succeeded = 0;           // 0003 / 0004 / 0005 / 0020
    std::uint64_t rejected = 0;            // BIRD answered with an error (or an unexpected code)
    std::uint64_t transport_failures = 0;  // no answer: absent, refused, hung, garbled
    std::string last_error;                // BIRD's text or the transport error, for status
};

class BirdReloader {
public:
    BirdReloader(boost::asio::io_context& io, BirdControlClient& client, BirdReloadOptions options = {});
    ~BirdReloader();
    BirdReloader(const BirdReloader&) = delete;
    BirdReloader& operator=(const BirdReloader&) = delete;

    // Schedules a reload of whatever the include holds by the time it runs. Never blocks.
    void request();

    const BirdReloadStats& stats() const { return stats_; }
    // True while a reload is queued, in flight or waiting for a retry.
    bool busy() const { return pending_ || in_flight_ || retry_scheduled_; }
    // Called after every finished attempt (tests and metrics watch it).
    void on_attempt_finished(std::function<void()> callback) { on_attempt_ = std::move(callback); }

private:
    void schedule_start();
    void start();
    void finished(const boost::system::error_code& error, const BirdReply& reply);
    void retry_later(std::chrono::milliseconds delay);

    boost::asio::io_context& io_;
    BirdControlClient& client_;
    BirdReloadOptions options_;
    boost::asio::steady_timer retry_timer_;
    common::Backoff backoff_;
    BirdReloadStats stats_;
    std::function<void()> on_attempt_;
    bool pending_ = false;       // a reload is wanted that has not started yet
    bool start_posted_ = false;  // start() is queued on the io_context
    bool in_flight_ = false;
    bool retry_scheduled_ = false;  // waiting out a backoff
    // Handlers hold a weak copy: a reloader destroyed mid-reload is not touched afterwards.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace anycast::reconciler
