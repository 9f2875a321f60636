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
