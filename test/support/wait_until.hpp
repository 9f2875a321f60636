// Waiting for something that takes real time (BGP takes ~4 s to come up, serve a pass, a
// process its start-up) by polling it: a bound that stops a broken test from hanging, not a
// timed assertion.
#pragma once

#include <chrono>
#include <functional>

namespace anycast::test {

// Polls `done` every `interval` until it holds or `limit` passes; returns the last result
// (`done` is asked once more at the limit).
bool wait_until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit = std::chrono::seconds(30),
                std::chrono::steady_clock::duration interval = std::chrono::milliseconds(20));

}  // namespace anycast::test
