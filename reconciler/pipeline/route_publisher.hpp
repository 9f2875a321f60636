// Where serve hands the set of routes it actually installed (never the desired set): BIRD's
// rendered include plus a reload (reconciler/bird/), or nothing when BIRD is disabled.
#pragma once

#include "common/ip_address.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace anycast::reconciler {

// BIRD reloads since the publisher was made, by how BIRD answered `configure`.
struct ReloadCounts {
    std::uint64_t succeeded = 0;               // BIRD reconfigured (or had nothing to change)
    std::uint64_t failed = 0;                  // BIRD refused the config, or did not answer at all
    std::uint64_t include_write_failures = 0;  // the include could not be written (retried)
};

class RoutePublisher {
public:
    virtual ~RoutePublisher() = default;
    // `installed`: every host prefix that now has a route of ours, sorted, no duplicates; a
    // prefix missing from it has already left the kernel (serve applies before it publishes).
    // Called only after a pass that changed something (or the first pass). Must not block
    // the event loop for long: slow work (a BIRD reload) is done asynchronously.
    virtual void publish(const std::vector<common::Prefix>& installed) = 0;
    // Publishers that reload BIRD count the reloads (for the metrics); others have none.
    virtual std::optional<ReloadCounts> reload_counts() const { return std::nullopt; }
    // The speaker's own config changed (serve wrote a new generated bird.conf): have it
    // re-read it, asynchronously. Publishers without a speaker ignore it.
    virtual void reconfigure() {}
    // The attributes function for the include changed (bgp.prefixes, a drain starting or
    // ending): rewrite the include with the newest set and reload. Others ignore it.
    virtual void set_attributes(std::string /*attributes*/) {}
    // Nothing published is still waiting to reach the speaker (a delayed write, a retry, a
    // reload in flight): serve waits for it before exiting after a drain.
    virtual bool settled() const { return true; }
    // Why what serve installs does not reach the speaker now (the include cannot be written,
    // the speaker is not reached or refused its config), nullopt when it does: /readyz and
    // flock_anycast_bird_healthy report it.
    virtual std::optional<std::string> trouble() const { return std::nullopt; }
    // Before the first publish: whether the speaker announces none of our prefixes now (what
    // a previous serve left it lists none). A drain known by then needs no graceful phase:
    // there is nothing to move traffic away from. False when it cannot tell.
    virtual bool announces_nothing_yet() const { return false; }

    // The set the speaker has taken in: BIRD reconfigured after the include listed it (a
    // publisher without a speaker: the set last published). nullopt before the first. A pod's
    // readiness gate turns True only once its prefixes are in it (issue 18 item 2).
    const std::optional<std::vector<common::Prefix>>& applied() const { return applied_; }
    // Called on the caller's loop after applied() changed.
    void on_applied(std::function<void()> handler) { on_applied_ = std::move(handler); }

protected:
    void mark_applied(const std::vector<common::Prefix>& set) {
        if (applied_ == set) return;
        applied_ = set;
        if (on_applied_) on_applied_();
    }

private:
    std::optional<std::vector<common::Prefix>> applied_;
    std::function<void()> on_applied_;
};

}  // namespace anycast::reconciler
