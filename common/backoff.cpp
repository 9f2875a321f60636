#include "common/backoff.hpp"

#include <algorithm>

namespace anycast::common {

Backoff::Backoff(Duration initial, Duration max, std::uint64_t seed)
    : initial_(initial), max_(std::max(initial, max)), rng_(seed) {}

Backoff::Duration Backoff::next() {
    // Ceiling = initial * 2^attempt, capped; the delay is uniform in [ceiling/2, ceiling].
    Duration ceiling = initial_;
    for (unsigned i = 0; i < attempt_ && ceiling < max_; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, max_);
    if (ceiling < max_) ++attempt_;
    std::uniform_int_distribution<Duration::rep> pick(ceiling.count() / 2, ceiling.count());
    return std::clamp(Duration(pick(rng_)), initial_, max_);
}

}  // namespace anycast::common
