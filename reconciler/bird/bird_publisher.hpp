// The RoutePublisher serve uses when `bird.enabled`: renders the installed set into the
// include, writes it only when its text changed, and has BIRD reload it asynchronously on the
// caller's io_context (coalesced, retried while BIRD is away). BIRD announces a prefix only
// while our kernel route exists and this file lists it (docs/architecture.md section 7).
#pragma once

#include "common/backoff.hpp"
#include "reconciler/bird/bird_control_client.hpp"
#include "reconciler/bird/bird_reloader.hpp"
#include "reconciler/pipeline/route_publisher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

struct BirdPublisherSettings {
    std::string fragment_path;  // the include flock.conf reads (bird.fragment)
    std::string socket_path;    // BIRD's control socket (bird.socket)
    std::chrono::milliseconds command_timeout{5000};
    BirdReloadOptions reload;
    // A set that only shrank is written this much later (see publish()); 0 writes at once.
    std::chrono::milliseconds shrink_delay{200};
    // A failed write of the include is retried after these delays (doubling, with jitter)
    // until it succeeds or a newer set replaces it.
    std::chrono::milliseconds write_retry_initial{200};
    std::chrono::milliseconds write_retry_max{10000};
    // render_bird_attributes' function, written into the include with the sets.
    std::string attributes = {};
};

class BirdPublisher : public RoutePublisher {
public:
    BirdPublisher(boost::asio::io_context& io, BirdPublisherSettings settings);
    // Writes a shrunken set still waiting for its delay (without a reload: the loop is done),
    // so the include matches the routes left behind for whoever reloads BIRD next.
    ~BirdPublisher() override;
    BirdPublisher(const BirdPublisher&) = delete;
    BirdPublisher& operator=(const BirdPublisher&) = delete;

    // A set that grew (or changed) is written at once: BIRD announces nothing outside it. A
    // set that only shrank is written shrink_delay later, and not at all if it grows back
    // meanwhile: its routes have already left the kernel (RoutePublisher's contract), so
    // BIRD's kernel protocol withdraws them at once, and a `configure` arriving at the same
    // moment made BIRD re-read its config first (measured: ~7 ms before the withdrawal left).
    void publish(const std::vector<common::Prefix>& installed) override;
    // Every finished `configure`: BIRD's success codes count as succeeded; its refusals and
    // attempts it never answered (absent, refused, hung) as failed. And every failed write of
    // the include.
    std::optional<ReloadCounts> reload_counts() const override;
    // A `configure` like the one after a new include (coalesced with it).
    void reconfigure() override { reloader_.request(); }
    void set_attributes(std::string attributes) override;
    bool settled() const override { return !deferred_ && !unwritten_ && !reloader_.busy(); }
    // The include a previous serve left (or none): its sets are empty. Read from the file,
    // so it holds only before this publisher's first write.
    bool announces_nothing_yet() const override;
    // The include's last write failed, or BIRD's last `configure` was not answered or refused.
    std::optional<std::string> trouble() const override;

    const BirdReloadStats& reload_stats() const { return reloader_.stats(); }
    BirdReloader& reloader() { return reloader_; }
    // False after a failed write of the include (logged); it is retried with backoff until it
    // is written or a newer set replaces it.
    bool last_write_ok() const { return last_write_ok_; }
    std::uint64_t write_failures() const { return write_failures_; }

private:
    void write_and_reload(const std::vector<common::Prefix>& installed);
    // A shrink waiting for the timer is overtaken: neither it nor the timer stays.
    void drop_deferred();
    void retry_write_later(const std::vector<common::Prefix>& installed);

    BirdPublisherSettings settings_;
    BirdControlClient client_;
    BirdReloader reloader_;
    boost::asio::steady_timer shrink_timer_;
    boost::asio::steady_timer write_retry_timer_;
    common::Backoff write_backoff_;
    std::optional<std::vector<common::Prefix>> written_;    // the set in the include now
    std::optional<std::vector<common::Prefix>> deferred_;   // a shrunken set waiting for the timer
    std::optional<std::vector<common::Prefix>> unwritten_;  // a set whose write failed, to retry
    bool first_ = true;
    std::uint64_t reloads_seen_ = 0;  // reloader successes already turned into applied()
    bool last_write_ok_ = true;
    std::string last_write_error_;
    std::uint64_t write_failures_ = 0;
};

}  // namespace anycast::reconciler
