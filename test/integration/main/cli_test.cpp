// The executable's entry points as a user and a runtime call them.
#include "test/support/process.hpp"
#include "test/support/sanitized.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

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

TEST_CASE("the executable loads no shared library but glibc and libmnl (none when static)", "[cli]") {
    // Each one costs every CNI exec its mapping and relocations (libm alone ~0.7 ms in the
    // build VM; docs/design-notes.md). Sanitized builds keep libstdc++ (and so libm) shared.
    const std::string dynamic = sh("readelf -d " + flock_binary());
    std::vector<std::string> needed;
    for (std::size_t at = dynamic.find("Shared library: ["); at != std::string::npos;
         at = dynamic.find("Shared library: [", at + 1)) {
        const std::size_t start = at + 17;
        needed.push_back(dynamic.substr(start, dynamic.find(']', start) - start));
    }
    INFO(dynamic);
    const bool sanitized = anycast::test::sanitized_build();
    if (FLOCK_STATIC_EXECUTABLE) {
        // static_link=auto where libmnl.a exists: no loader at all.
        CHECK(needed.empty());
        CHECK(dynamic.find("no dynamic section") != std::string::npos);
    } else if (!sanitized && !FLOCK_SHARED_LIBRARIES) {  // static_link=off links the shared ones
        CHECK(needed == std::vector<std::string>{"libmnl.so.0", "libc.so.6", "ld-linux-x86-64.so.2"});
    } else {
        CHECK(std::find(needed.begin(), needed.end(), "libmnl.so.0") != needed.end());
    }
}

TEST_CASE("bird-config prints the bird.conf of the config's bgp section, and refuses a config without one", "[cli]") {
    anycast::test::TempDir dir("birdcfg");
    const std::string with_bgp = dir.file("bgp.json");
    std::ofstream(with_bgp) << R"({"bgp": {"asn": 65001, "routerId": "192.0.2.1",
        "peers": [{"name": "tor1", "address": "192.0.2.2", "asn": 65000, "bfd": true}]}})";
    const auto printed = run_process({flock_binary(), "bird-config", "--config", with_bgp});
    INFO(printed.err);
    CHECK(printed.exit_code == 0);
    CHECK(printed.out.find("protocol bgp bgp_tor1 {") != std::string::npos);
    CHECK(printed.out.find("bfd on;") != std::string::npos);

    // --output: the file, and an empty include for BIRD's first start.
    std::ofstream(dir.file("out.json")) << R"({"bird": {"fragment": ")" << dir.file("sets.conf")
                                        << R"("}, "bgp": {"asn": 65001, "peers": [{"name": "tor1",
        "address": "192.0.2.2", "asn": 65000}]}})";
    const auto written = run_process(
        {flock_binary(), "bird-config", "--config", dir.file("out.json"), "--output", dir.file("bird.conf")});
    INFO(written.err);
    CHECK(written.exit_code == 0);
    CHECK(written.out.empty());
    CHECK(run_process({"bird", "-p", "-c", dir.file("bird.conf")}).exit_code == 0);  // include there, parses

    const std::string without = dir.file("plain.json");
    std::ofstream(without) << R"({"stateDir": "/run/flock-anycast"})";
    const auto refused = run_process({flock_binary(), "bird-config", "--config", without});
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.find(without + ": no bgp section") != std::string::npos);

    std::ofstream(dir.file("bad.json")) << R"({"bgp": {"asn": 65001, "routerId": "192.0.2.1",
        "peers": [{"name": "tor1", "address": "192.0.2.2", "asn": 65000, "password": "x\"y"}]}})";
    const auto bad = run_process({flock_binary(), "bird-config", "--config", dir.file("bad.json")});
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("bgp.peers[0].password") != std::string::npos);
}
