// Which kernels get resilient groups (uname -r → 5.13+).
#include "reconciler/serve/ecmp_support.hpp"

#include <catch2/catch.hpp>

using anycast::reconciler::release_has_resilient_groups;

TEST_CASE("resilient nexthop groups are detected from the kernel release", "[unit]") {
    CHECK(release_has_resilient_groups("6.1.0-13-amd64") == true);
    CHECK(release_has_resilient_groups("5.13.0") == true);
    CHECK(release_has_resilient_groups("5.12.19-generic") == false);
    CHECK(release_has_resilient_groups("4.19.0-25-amd64") == false);
    CHECK(release_has_resilient_groups("10.0") == true);
    CHECK(!release_has_resilient_groups("linux"));
    CHECK(!release_has_resilient_groups("6"));
}
