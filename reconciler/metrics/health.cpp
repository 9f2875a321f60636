#include "reconciler/metrics/health.hpp"

namespace anycast::reconciler {

void Health::set_readiness_synced(bool synced, std::string reason) {
    readiness_synced_ = synced;
    readiness_reason_ = synced ? std::string{} : (reason.empty() ? "readiness source not synced" : std::move(reason));
}

std::optional<std::string> Health::not_ready_reason() const {
    if (!first_pass_done_ && !readiness_synced_) {
        return "first reconcile pass not done; " + readiness_reason_;
    }
    if (!first_pass_done_) return std::string("first reconcile pass not done");
    if (!readiness_synced_) return readiness_reason_;
    if (publisher_check_) {
        if (auto trouble = publisher_check_()) return "announcements stuck: " + *trouble;
    }
    return std::nullopt;
}

}  // namespace anycast::reconciler
