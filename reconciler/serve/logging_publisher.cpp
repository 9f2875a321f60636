#include "reconciler/serve/logging_publisher.hpp"

#include "common/log.hpp"

namespace anycast::reconciler {

void LoggingPublisher::publish(const std::vector<common::Prefix>& installed) {
    common::log::info("installed set (not published)",
                      {common::log::kv("why", why_), common::log::kv("count", installed.size()),
                       common::log::kv("prefixes", fmt::join(installed, ","))});
    mark_applied(installed);  // no speaker: nothing further to wait for
}

}  // namespace anycast::reconciler
