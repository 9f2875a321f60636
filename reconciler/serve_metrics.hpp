// Copies what one pass of serve did into the metric set (reconciler/metrics.hpp): kept apart
// from the loop so serve.cpp only says "a pass happened".
#pragma once

#include "common/ip_address.hpp"
#include "common/netlink/route.hpp"
#include "reconciler/metrics.hpp"
#include "reconciler/serve_counters.hpp"

#include <map>

namespace anycast::reconciler {

// `installed`: the routes of ours in the kernel after the pass; `netlink_errors`: requests of
// this pass the kernel refused; `success`: no kernel read or write failed.
void observe_pass(Metrics& metrics, const ServeCounters& counters,
                  const std::map<common::Prefix, common::netlink::Route>& installed, std::size_t netlink_errors,
                  bool success);

}  // namespace anycast::reconciler
