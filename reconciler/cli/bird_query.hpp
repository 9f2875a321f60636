// Asks BIRD about one prefix for `why` (reconciler/cli/why.hpp): whether our kernel protocol
// learnt it into flock4/flock6 and, with the generated config, whether each BGP session
// exports it. Synchronous, over the control socket, each command bounded by `timeout`.
#pragma once

#include "common/config/node_config.hpp"
#include "reconciler/cli/why.hpp"

#include <chrono>

namespace anycast::reconciler {

BirdView query_bird(const common::NodeConfig& config, const common::Prefix& prefix,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace anycast::reconciler
