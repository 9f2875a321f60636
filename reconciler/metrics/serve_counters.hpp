// What the loop counts, for a metrics module (reconciler/metrics/) and status to read. Only
// the loop's thread writes it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace anycast::reconciler {

struct ServeCounters {
    std::uint64_t passes = 0;         // passes run (including no-change ones)
    std::uint64_t failed_passes = 0;  // a kernel read failed or a change was refused
    std::uint64_t route_changes = 0;  // replace/delete requests sent to the kernel (routes, nexthop objects)
    std::uint64_t route_change_errors = 0;
    std::uint64_t publishes = 0;  // RoutePublisher::publish calls
    std::uint64_t resyncs = 0;    // periodic passes and monitor overruns
    std::size_t records = 0;      // at the last pass
    std::size_t eligible_records = 0;
    std::size_t routes_installed = 0;
    std::chrono::nanoseconds last_pass_duration{0};
    std::chrono::system_clock::time_point last_success{};  // epoch: none yet
};

}  // namespace anycast::reconciler
