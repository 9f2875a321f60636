// Whether this build is sanitized. The tests are built with the executable, so a sanitized
// test binary means a sanitized flock-anycast: GCC links libasan.so, clang (test/sanitize.ini)
// links its runtime in, so the executable's needed libraries cannot tell.
#pragma once

namespace anycast::test {

constexpr bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

}  // namespace anycast::test
