#include "test/support/wait_until.hpp"

#include <thread>

namespace anycast::test {

bool wait_until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit,
                std::chrono::steady_clock::duration interval) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(interval);
    }
    return done();
}

}  // namespace anycast::test
