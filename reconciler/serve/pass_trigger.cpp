#include "reconciler/serve/pass_trigger.hpp"

#include <boost/asio/post.hpp>

namespace anycast::reconciler {

void PassTrigger::request(std::string_view reason) {
    reasons_.emplace(reason);
    if (pending_) return;
    pending_ = true;
    boost::asio::post(io_, [this] {
        pending_ = false;
        const std::set<std::string> reasons = std::move(reasons_);
        reasons_.clear();
        pass_(reasons);
    });
}

}  // namespace anycast::reconciler
