#include "common/json_reader.hpp"

#include <catch2/catch.hpp>

using anycast::common::JsonError;
using anycast::common::JsonReader;
using anycast::common::parse_json;

TEST_CASE("JSON errors name the field path", "[unit]") {
    auto doc =
        parse_json(R"({"policy":{"allowedPrefixes":["10.0.0.0/8","fd00::/48","bogus"]},"n":"x","t":5})", "config");
    JsonReader root(doc);
    auto prefixes = root.required("policy").required("allowedPrefixes").elements();
    REQUIRE(prefixes.size() == 3);
    CHECK(prefixes[0].as_prefix().to_string() == "10.0.0.0/8");
    try {
        prefixes[2].as_prefix();
        FAIL("expected an error");
    } catch (const JsonError& e) {
        CHECK(std::string(e.what()) == "policy.allowedPrefixes[2]: not an IP prefix: \"bogus\": not an IP address");
        CHECK(e.path() == "policy.allowedPrefixes[2]");
    }
    CHECK_THROWS_WITH(root.required("missing"), "missing: missing");
    CHECK_THROWS_WITH(root.required("n").as_int(0, 10), "n: expected an integer, got a string");
    CHECK_THROWS_WITH(root.required("t").as_int(0, 3), "t: 5 is out of range [0, 3]");
    CHECK_THROWS_WITH(root.required("t").as_string(), "t: expected a string, got an integer");
    CHECK_THROWS_WITH(root.required("n").required("x"), "n: expected an object, got a string");
    CHECK(root.int_or("absent", 7, 0, 10) == 7);
    CHECK(root.string_or("n", "y") == "x");
}

TEST_CASE("malformed JSON is reported with what was being read", "[unit]") {
    CHECK_THROWS_AS(parse_json("{", "stdin"), JsonError);
    try {
        parse_json("{\"a\":", "network config");
    } catch (const JsonError& e) {
        CHECK(std::string(e.what()).rfind("network config: invalid JSON", 0) == 0);
    }
    CHECK_THROWS_AS(parse_json("", "stdin"), JsonError);
}

TEST_CASE("null members count as absent", "[unit]") {
    auto doc = parse_json(R"({"a":null})", "x");
    JsonReader root(doc);
    CHECK_FALSE(root.member("a"));
    CHECK_FALSE(root.has("a"));
}

TEST_CASE("numbers outside int64 are refused as integers, never cast (UBSan checks the cast)", "[unit]") {
    auto doc = parse_json(R"({"huge": 1e300, "tiny": -1e300, "edge": 9223372036854775808.0, "frac": 2.5,
                              "whole": 30.0, "min": -9223372036854775808, "big": 18446744073709551615})",
                          "x");
    JsonReader root(doc);
    const std::int64_t all_min = INT64_MIN;
    const std::int64_t all_max = INT64_MAX;
    CHECK_THROWS_WITH(root.required("huge").as_int(all_min, all_max), "huge: expected an integer, got a number");
    CHECK_THROWS_WITH(root.required("tiny").as_int(all_min, all_max), "tiny: expected an integer, got a number");
    CHECK_THROWS_WITH(root.required("edge").as_int(all_min, all_max), "edge: expected an integer, got a number");
    CHECK_THROWS_WITH(root.required("frac").as_int(all_min, all_max), "frac: expected an integer, got a number");
    CHECK_THROWS_WITH(root.required("big").as_int(0, 10), "big: 18446744073709551615 is out of range [0, 10]");
    CHECK(root.required("whole").as_int(0, 60) == 30);
    CHECK(root.required("min").as_int(all_min, all_max) == all_min);
}
