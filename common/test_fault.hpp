// Fault injection for the crash tests: with FLOCK_TEST_FAULT=<name> in its environment the
// process kills itself (SIGKILL) when it reaches the fault point of that name, so a test can
// stop it at an exact moment (between a temp file's fsync and its rename, between two netlink
// chunks of one pass). Compiled in only with -Dtest_hooks=true (test/run.sh); a user's build
// has no such hook.
#pragma once

#include <csignal>
#include <cstdlib>
#include <string_view>

namespace anycast::common {

inline void fault_point([[maybe_unused]] std::string_view name) {
#ifdef FLOCK_TEST_HOOKS
    const char* fault = std::getenv("FLOCK_TEST_FAULT");
    if (fault != nullptr && name == fault) std::raise(SIGKILL);
#endif
}

}  // namespace anycast::common
