// A node drain (issue 18 item 1), on serve's loop: `announcing` → a first reason → `draining`
// (every prefix re-announced with GRACEFUL_SHUTDOWN and the drain LOCAL_PREF, so peers move
// traffic away) → drain.gracefulSeconds later `drained` (withdrawn from BGP; the kernel routes
// to the local pods stay, so flows still arriving are delivered until the pods really go) →
// the last reason gone → `announcing` again. A drain known before anything was announced
// begins `drained` (DrainStart::withdrawn). Reasons come from three sources, each replacing
// only its own: `flock-anycast drain`/`undrain` (manual), SIGTERM with --drain-on-exit
// (signal) and the Node object (node: cordon, label, taint, annotation). serve asks it what to
// publish; it calls back on every change.
#pragma once

#include "common/config/node_config.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

enum class DrainState { announcing, draining, drained };
std::string_view drain_state_name(DrainState state);

// Why a node drains; bounded, so it can label a metric.
enum class DrainCause { manual, signal, cordon, label, taint, annotation };
inline constexpr DrainCause k_drain_causes[] = {DrainCause::manual, DrainCause::signal, DrainCause::cordon,
                                                DrainCause::label,  DrainCause::taint,  DrainCause::annotation};
std::string_view drain_cause_name(DrainCause cause);

enum class DrainSource { manual, signal, node };

// How a drain that starts now begins: with the graceful phase, or withdrawn at once (nothing
// is announced, e.g. serve started on a cordoned node after a previous serve had drained).
enum class DrainStart { graceful, withdrawn };

struct DrainReason {
    DrainCause cause = DrainCause::manual;
    std::string text;  // "flock-anycast drain", "node cordoned (spec.unschedulable)", ...

    friend bool operator==(const DrainReason&, const DrainReason&) = default;
};

struct ActiveDrainReason {
    DrainReason reason;
    std::chrono::system_clock::time_point since;
};

class Drain {
public:
    using Changed = std::function<void()>;

    Drain(boost::asio::io_context& io, Changed changed);

    // Replaces `source`'s reasons with `reasons` (a reason already held keeps its since-time).
    // The first reason starts a drain; a drain already on keeps its timer. The last one gone
    // ends it: `ended_by` says what ended it. Logged.
    void set_reasons(DrainSource source, std::vector<DrainReason> reasons, const common::DrainSettings& settings,
                     std::string ended_by, DrainStart start = DrainStart::graceful);

    DrainState state() const { return state_; }
    // Every reason holding now, oldest first.
    const std::vector<ActiveDrainReason>& reasons() const { return reasons_; }
    // One line: the reasons holding, joined by "; ", or what ended the last drain.
    std::string reason() const;
    // When the current state began (wall clock, for status and metrics).
    std::chrono::system_clock::time_point since() const { return since_; }
    // The LOCAL_PREF the announcements carry now, nullopt when not draining.
    std::optional<std::uint32_t> drain_local_preference() const;
    // Whether the prefixes are announced at all.
    bool announcing_prefixes() const { return state_ != DrainState::drained; }

private:
    void enter(DrainState state);

    boost::asio::steady_timer timer_;
    Changed changed_;
    DrainState state_ = DrainState::announcing;
    std::vector<ActiveDrainReason> reasons_;
    std::string ended_by_;
    std::uint32_t local_preference_ = 0;
    std::chrono::system_clock::time_point since_ = std::chrono::system_clock::now();
};

// Which source a cause belongs to.
DrainSource drain_source(DrainCause cause);

}  // namespace anycast::reconciler
