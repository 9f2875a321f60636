// The executable's entry points as a user and a runtime call them.
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace anycast::test;

TEST_CASE("version and help print to stdout and exit 0", "[cli]") {
    auto version = run_process({flock_binary(), "version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("flock-anycast ", 0) == 0);
    auto help = run_process({flock_binary(), "help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage:") != std::string::npos);
}

TEST_CASE("an unknown subcommand is a clear error with a non-zero exit", "[cli]") {
    auto result = run_process({flock_binary(), "frobnicate"});
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(result.err.find("unknown command \"frobnicate\"") != std::string::npos);
}

TEST_CASE("CNI VERSION answers the supported versions", "[cli]") {
    auto result = run_process({flock_binary()}, {.env = {{{"CNI_COMMAND", "VERSION"}}}, .stdin_text = "{}"});
    CHECK(result.exit_code == 0);
    auto json = boost::json::parse(result.out);
    CHECK(json == boost::json::parse(
                      R"({"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"));
}

TEST_CASE("an unknown CNI_COMMAND is the spec's error JSON with code 4", "[cli]") {
    auto result = run_process({flock_binary()}, {.env = {{{"CNI_COMMAND", "FROB"}}}, .stdin_text = ""});
    CHECK(result.exit_code == 1);
    auto json = boost::json::parse(result.out).as_object();
    CHECK(json.at("code") == 4);
    CHECK(json.at("cniVersion") == "1.1.0");
    CHECK(std::string(json.at("msg").as_string()).find("FROB") != std::string::npos);
}
