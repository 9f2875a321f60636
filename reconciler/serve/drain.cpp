#include "reconciler/serve/drain.hpp"

#include "common/log.hpp"

#include <algorithm>

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

std::string_view drain_cause_name(DrainCause cause) {
    switch (cause) {
        case DrainCause::manual: return "manual";
        case DrainCause::signal: return "signal";
        case DrainCause::cordon: return "cordon";
        case DrainCause::label: return "label";
        case DrainCause::taint: return "taint";
        case DrainCause::annotation: return "annotation";
    }
    return "unknown";
}

DrainSource drain_source(DrainCause cause) {
    switch (cause) {
        case DrainCause::manual: return DrainSource::manual;
        case DrainCause::signal: return DrainSource::signal;
        default: return DrainSource::node;
    }
}

Drain::Drain(boost::asio::io_context& io, Changed changed) : timer_(io), changed_(std::move(changed)) {}

void Drain::set_reasons(DrainSource source, std::vector<DrainReason> reasons, const common::DrainSettings& settings,
                        std::string ended_by, DrainStart start) {
    const auto now = std::chrono::system_clock::now();
    std::vector<ActiveDrainReason> next;
    for (const auto& active : reasons_) {
        const bool kept = drain_source(active.reason.cause) != source ||
                          std::find(reasons.begin(), reasons.end(), active.reason) != reasons.end();
        if (kept) {
            next.push_back(active);
        } else {
            log::info("drain reason cleared", {kv("reason", active.reason.text)});
        }
    }
    for (auto& reason : reasons) {
        const bool held = std::any_of(next.begin(), next.end(), [&](const auto& a) { return a.reason == reason; });
        if (held) continue;
        log::info("drain reason added", {kv("reason", reason.text), kv("cause", drain_cause_name(reason.cause))});
        next.push_back({std::move(reason), now});
    }
    const bool changed_reasons = next.size() != reasons_.size() ||
                                 !std::equal(next.begin(), next.end(), reasons_.begin(),
                                             [](const auto& a, const auto& b) { return a.reason == b.reason; });
    reasons_ = std::move(next);

    if (reasons_.empty()) {
        if (state_ == DrainState::announcing) return;
        timer_.cancel();
        log::info("drain ended: announcing again", {kv("reason", ended_by), kv("was", drain_state_name(state_))});
        ended_by_ = std::move(ended_by);
        enter(DrainState::announcing);
        return;
    }
    if (state_ != DrainState::announcing) {
        log::info("drain stays on", {kv("state", drain_state_name(state_)), kv("reasons", reason())});
        if (changed_reasons) changed_();  // status and metrics show the reasons
        return;
    }
    local_preference_ = settings.local_preference;
    if (start == DrainStart::withdrawn) {
        log::info("drain: nothing is announced, so nothing to move traffic from: withdrawn at once",
                  {kv("reasons", reason())});
        enter(DrainState::drained);
        return;
    }
    log::info("drain: announcing with GRACEFUL_SHUTDOWN, withdrawing later",
              {kv("reasons", reason()), kv("localPreference", local_preference_),
               kv("gracefulSeconds", settings.graceful_seconds)});
    enter(DrainState::draining);
    timer_.expires_after(std::chrono::seconds(settings.graceful_seconds));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || state_ != DrainState::draining) return;
        log::info("drain: prefixes withdrawn from BGP; kernel routes stay", {kv("reasons", reason())});
        enter(DrainState::drained);
    });
}

std::string Drain::reason() const {
    if (reasons_.empty()) return ended_by_;
    std::string text;
    for (const auto& active : reasons_) text += (text.empty() ? "" : "; ") + active.reason.text;
    return text;
}

std::optional<std::uint32_t> Drain::drain_local_preference() const {
    if (state_ == DrainState::announcing) return std::nullopt;
    return local_preference_;
}

void Drain::enter(DrainState state) {
    state_ = state;
    since_ = std::chrono::system_clock::now();
    changed_();
}

}  // namespace anycast::reconciler
