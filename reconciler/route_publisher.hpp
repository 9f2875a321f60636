// Where serve hands the set of routes it actually installed (never the desired set): BIRD's
// rendered include plus a reload (reconciler/bird_*), or nothing when BIRD is disabled.
#pragma once

#include "common/ip_address.hpp"

#include <vector>

namespace anycast::reconciler {

class RoutePublisher {
public:
    virtual ~RoutePublisher() = default;
    // `installed`: every host prefix that now has a route of ours, sorted, no duplicates.
    // Called only after a pass that changed something (or the first pass). Must not block
    // the event loop for long: slow work (a BIRD reload) is done asynchronously.
    virtual void publish(const std::vector<common::Prefix>& installed) = 0;
};

}  // namespace anycast::reconciler
