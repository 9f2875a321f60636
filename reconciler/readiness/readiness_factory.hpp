// Picks serve's readiness source by `readiness.source` (docs/architecture.md section 3).
#pragma once

#include "common/config/node_config.hpp"
#include "reconciler/readiness/readiness_source.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

namespace anycast::reconciler {

std::unique_ptr<ReadinessSource> make_readiness_source(boost::asio::io_context& io, const common::NodeConfig& config);

// "file /run/flock-anycast/pods.json", "always", "kubernetes node worker-1": for logs and plan.
std::string describe_readiness(const common::NodeConfig& config);

}  // namespace anycast::reconciler
