// Coalesces every trigger (records, readiness, kernel events, resync timer, reload) into at
// most one pending reconcile pass, run from the io_context after the current handler: a
// burst of inotify or netlink events costs one pass, not one each.
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace anycast::reconciler {

class PassTrigger {
public:
    // `pass` receives the reasons gathered since the last pass (for the log).
    PassTrigger(boost::asio::io_context& io, std::function<void(const std::set<std::string>&)> pass)
        : io_(io), pass_(std::move(pass)) {}

    void request(std::string_view reason);
    bool pending() const { return pending_; }

private:
    boost::asio::io_context& io_;
    std::function<void(const std::set<std::string>&)> pass_;
    bool pending_ = false;
    std::set<std::string> reasons_;
};

}  // namespace anycast::reconciler
