#include "common/backoff.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using anycast::common::Backoff;

TEST_CASE("backoff grows from 0.5 s to 30 s with jitter and resets", "[unit]") {
    using std::chrono::milliseconds;
    Backoff backoff(milliseconds(500), milliseconds(30000), 42);
    milliseconds ceiling(500);
    for (int i = 0; i < 12; ++i) {
        const auto delay = backoff.next();
        CHECK(delay >= milliseconds(500));
        CHECK(delay <= std::min(ceiling, milliseconds(30000)));
        CHECK(delay >= std::min(ceiling, milliseconds(30000)) / 2);
        ceiling *= 2;
    }
    CHECK(backoff.next() >= milliseconds(15000));
    backoff.reset();
    CHECK(backoff.next() == milliseconds(500));
    // Jitter: two clients with different seeds do not retry in lockstep.
    Backoff a(milliseconds(500), milliseconds(30000), 1), b(milliseconds(500), milliseconds(30000), 2);
    bool differ = false;
    for (int i = 0; i < 8; ++i) differ = differ || a.next() != b.next();
    CHECK(differ);
}
