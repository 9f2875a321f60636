// Retry delays: exponential from `initial` to `max`, each delay drawn from its upper half
// so that many nodes losing the same apiserver (or BIRD, or a kernel) do not come back in
// lockstep. The one backoff: the Kubernetes watcher, the BIRD reloader and serve's retries.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace anycast::common {

class Backoff {
public:
    using Duration = std::chrono::milliseconds;

    Backoff(Duration initial, Duration max, std::uint64_t seed = std::random_device{}());

    // The next delay, in [initial, max]; doubles the ceiling each call.
    Duration next();
    // After a success: the next failure waits `initial` again.
    void reset() { attempt_ = 0; }

private:
    Duration initial_;
    Duration max_;
    unsigned attempt_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace anycast::common
