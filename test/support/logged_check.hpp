// CHECK and REQUIRE that print a log (serve's, BIRD's) only when they fail: the condition is
// evaluated before the log is read, so the log shows what had happened by then.
#pragma once

#include <catch2/catch.hpp>

#define CHECK_LOGGED(log, ...)          \
    do {                                \
        const bool ok_ = (__VA_ARGS__); \
        INFO("serve log:\n" << (log));  \
        CHECK(ok_);                     \
    } while (false)

#define REQUIRE_LOGGED(log, ...)        \
    do {                                \
        const bool ok_ = (__VA_ARGS__); \
        INFO("serve log:\n" << (log));  \
        REQUIRE(ok_);                   \
    } while (false)
