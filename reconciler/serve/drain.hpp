// A node drain (issue 18 item 1), on serve's loop: `announcing` → start() → `draining` (every
// prefix re-announced with GRACEFUL_SHUTDOWN and the drain LOCAL_PREF, so peers move traffic
// away) → drain.gracefulSeconds later `drained` (withdrawn from BGP; the kernel routes to the
// local pods stay, so flows still arriving are delivered until the pods really go) → stop()
// → `announcing` again. serve asks it what to publish; it calls back on every change.
#pragma once

#include "common/config/node_config.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace anycast::reconciler {

enum class DrainState { announcing, draining, drained };
std::string_view drain_state_name(DrainState state);

class Drain {
public:
    using Changed = std::function<void()>;

    Drain(boost::asio::io_context& io, Changed changed);

    // Begins a drain for `reason` ("flock-anycast drain", "SIGTERM"); a drain already on keeps
    // its timer (the reason is updated). Logged.
    void start(std::string reason, const common::DrainSettings& settings);
    // Ends a drain: announcing again at once. Logged; a no-op when not draining.
    void stop(std::string reason);

    DrainState state() const { return state_; }
    const std::string& reason() const { return reason_; }
    // When the current state began (steady clock), for status.
    std::chrono::steady_clock::time_point since() const { return since_; }
    // The LOCAL_PREF the announcements carry now, nullopt when not draining.
    std::optional<std::uint32_t> drain_local_preference() const;
    // Whether the prefixes are announced at all.
    bool announcing_prefixes() const { return state_ != DrainState::drained; }

private:
    void enter(DrainState state);

    boost::asio::steady_timer timer_;
    Changed changed_;
    DrainState state_ = DrainState::announcing;
    std::string reason_;
    std::uint32_t local_preference_ = 0;
    std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
};

}  // namespace anycast::reconciler
