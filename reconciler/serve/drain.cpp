#include "reconciler/serve/drain.hpp"

#include "common/log.hpp"

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

std::string_view drain_state_name(DrainState state) {
    switch (state) {
        case DrainState::announcing: return "announcing";
        case DrainState::draining: return "draining";
        case DrainState::drained: return "drained";
    }
    return "unknown";
}

Drain::Drain(boost::asio::io_context& io, Changed changed) : timer_(io), changed_(std::move(changed)) {}

void Drain::start(std::string reason, const common::DrainSettings& settings) {
    reason_ = std::move(reason);
    if (state_ != DrainState::announcing) {
        log::info("drain already on", {kv("state", drain_state_name(state_)), kv("reason", reason_)});
        return;
    }
    local_preference_ = settings.local_preference;
    log::info("drain: announcing with GRACEFUL_SHUTDOWN, withdrawing later",
              {kv("reason", reason_), kv("localPreference", local_preference_),
               kv("gracefulSeconds", settings.graceful_seconds)});
    enter(DrainState::draining);
    timer_.expires_after(std::chrono::seconds(settings.graceful_seconds));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || state_ != DrainState::draining) return;
        log::info("drain: prefixes withdrawn from BGP; kernel routes stay", {kv("reason", reason_)});
        enter(DrainState::drained);
    });
}

void Drain::stop(std::string reason) {
    if (state_ == DrainState::announcing) return;
    timer_.cancel();
    log::info("drain ended: announcing again", {kv("reason", reason), kv("was", drain_state_name(state_))});
    reason_ = std::move(reason);
    enter(DrainState::announcing);
}

std::optional<std::uint32_t> Drain::drain_local_preference() const {
    if (state_ == DrainState::announcing) return std::nullopt;
    return local_preference_;
}

void Drain::enter(DrainState state) {
    state_ = state;
    since_ = std::chrono::steady_clock::now();
    changed_();
}

}  // namespace anycast::reconciler
