#include "cni/spec/cni_error.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace anycast::cni;

TEST_CASE("CNI errors carry code and details", "[unit]") {
    CniError e(cni_code::policy_refused, "10.1.1.1 not allowed", "namespace dns");
    CHECK(e.code() == 100);
    CHECK(std::string(e.what()) == "10.1.1.1 not allowed");
    CHECK(e.details() == "namespace dns");
}
