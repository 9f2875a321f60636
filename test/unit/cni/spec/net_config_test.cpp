#include "cni/spec/net_config.hpp"
#include "cni/spec/cni_error.hpp"

#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace anycast::cni;
using anycast::cni::CniError;
using anycast::test::TempDir;

namespace {

constexpr const char* k_no_default = "/nonexistent/flock-anycast/config.json";

std::pair<int, std::string> error_of(const std::string& text, const std::string& default_path = k_no_default) {
    try {
        parse_net_config(text, default_path);
    } catch (const CniError& e) {
        return {e.code(), e.what()};
    }
    return {0, ""};
}

}  // namespace

TEST_CASE("network config: the plugin entry is read with prevResult, runtimeConfig and valid attachments", "[unit]") {
    const auto config = parse_net_config(R"({
        "cniVersion": "1.1.0", "cniVersions": ["1.0.0", "1.1.0"], "name": "k8s-pod-network", "type": "flock-anycast",
        "prevResult": {"cniVersion": "1.1.0", "ips": []},
        "runtimeConfig": {"anycastIPs": ["10.255.53.53"]},
        "cni.dev/valid-attachments": [{"containerID": "c1", "ifname": "eth0"}],
        "stateDir": "/tmp/x", "policy": {"allowedPrefixes": ["10.255.0.0/16"]} })",
                                         k_no_default);
    CHECK(config.cni_version == "1.1.0");
    CHECK(config.name == "k8s-pod-network");
    REQUIRE(config.prev_result);
    CHECK(config.prev_result->contains("ips"));
    CHECK(config.runtime_config.contains("anycastIPs"));
    REQUIRE(config.valid_attachments.size() == 1);
    CHECK(config.valid_attachments[0].container_id == "c1");
    CHECK(config.node.state_dir == "/tmp/x");
    CHECK(config.node.policy.allowed_prefixes.at(0).to_string() == "10.255.0.0/16");
}

TEST_CASE("network config: inline node-config fields win over the config file", "[unit]") {
    TempDir dir("cfg");
    const std::string file = dir.write(
        "config.json", R"({"stateDir": "/from/file", "annotation": "a/b", "routes": {"table": 7, "protocol": 99}})");
    const auto config = parse_net_config(
        R"({"cniVersion": "1.0.0", "name": "n", "configFile": ")" + file + R"(", "routes": {"table": 9}})",
        k_no_default);
    CHECK(config.node.state_dir == "/from/file");
    CHECK(config.node.annotation == "a/b");
    CHECK(config.node.routes.table == 9);
    CHECK(config.node.routes.protocol == 99);

    // Without configFile the default path is read when it exists.
    const auto by_default = parse_net_config(R"({"cniVersion": "1.0.0", "name": "n"})", file);
    CHECK(by_default.node.state_dir == "/from/file");
}

TEST_CASE("network config: bad input gives the spec's codes and names the field", "[unit]") {
    CHECK(error_of("") == std::pair{6, std::string("stdin: empty, expected the network configuration JSON")});
    CHECK(error_of(" \n").first == 6);
    CHECK(error_of("{\"cniVersion\":").first == 6);
    CHECK_THAT(error_of("{\"cniVersion\":").second, Catch::StartsWith("stdin: invalid JSON"));
    CHECK(error_of(R"({"name": "n"})") == std::pair{7, std::string("network config: cniVersion: missing")});
    CHECK(error_of(R"({"cniVersion": 1, "name": "n"})") ==
          std::pair{7, std::string("network config: cniVersion: expected a string, got an integer")});
    CHECK(error_of(R"({"cniVersion": "9.9.9", "name": "n"})") ==
          std::pair{1, std::string("cniVersion: unsupported version \"9.9.9\"")});
    CHECK(error_of(R"({"cniVersion": "1.0.0"})") == std::pair{7, std::string("network config: name: missing")});
    CHECK(error_of(R"({"cniVersion": "1.0.0", "name": "n", "prevResult": []})") ==
          std::pair{7, std::string("network config: prevResult: expected an object, got an array")});
    CHECK(error_of(R"({"cniVersion": "1.0.0", "name": "n", "runtimeConfig": 3})").first == 7);
    CHECK(error_of(R"({"cniVersion": "1.1.0", "name": "n", "cni.dev/valid-attachments": [{"ifname": "eth0"}]})") ==
          std::pair{7, std::string("network config: cni.dev/valid-attachments[0].containerID: missing")});
    CHECK(error_of(R"({"cniVersion": "1.0.0", "name": "n", "policy": {"allowedPrefixes": ["x"]}})") ==
          std::pair{
              7, std::string("network config: policy.allowedPrefixes[0]: not an IP prefix: \"x\": not an IP address")});
    CHECK(error_of(R"({"cniVersion": "1.0.0", "name": "n", "configFile": "/nonexistent/c.json"})") ==
          std::pair{7, std::string("configFile: /nonexistent/c.json: cannot open: No such file or directory")});
    TempDir dir("cfg");
    const std::string bad = dir.write("bad.json", R"({"routes": {"table": "x"}})");
    CHECK(error_of(R"({"cniVersion": "1.0.0", "name": "n", "configFile": ")" + bad + "\"}") ==
          std::pair{7, "configFile: " + bad + ": routes.table: expected an integer, got a string"});
}

TEST_CASE("network config: errors are answered in the config's version when it is supported", "[unit]") {
    CHECK(error_version(R"({"cniVersion": "0.4.0"})") == "0.4.0");
    CHECK(error_version(R"({"cniVersion": "7.0.0"})") == "1.1.0");
    CHECK(error_version("garbage") == "1.1.0");
}
