// The RoutePublisher serve uses: BIRD's (reconciler/bird/bird_publisher.hpp) when bird.enabled,
// otherwise (and always in --dry-run, which must write nothing) one that only logs.
#pragma once

#include "common/config/node_config.hpp"
#include "reconciler/pipeline/route_publisher.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>

namespace anycast::reconciler {

std::unique_ptr<RoutePublisher> make_publisher(boost::asio::io_context& io, const common::NodeConfig& config,
                                               bool dry_run);

}  // namespace anycast::reconciler
