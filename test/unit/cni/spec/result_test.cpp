#include "cni/pod_ip.hpp"
#include "cni/requested_ips.hpp"
#include "cni/spec/result.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/json_reader.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

using namespace anycast::cni;
using anycast::cni::CniError;
using anycast::common::Family;
using anycast::common::IpAddress;
using anycast::common::parse_json;

namespace {

boost::json::object object_of(std::string_view text) { return parse_json(text, "test").as_object(); }

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

// What ptp + host-local hand on, in the 1.x layout.
constexpr std::string_view k_ptp_result = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"veth1234","mac":"aa:bb:cc:dd:ee:01"},
                {"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/run/netns/pod"}],
  "ips":[{"address":"10.0.0.5/24","gateway":"10.0.0.1","interface":1},
         {"address":"fd00::5/64","gateway":"fd00::1","interface":1}],
  "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})";

}  // namespace

TEST_CASE("versions compare numerically", "[unit]") {
    CHECK(compare_versions("0.4.0", "1.0.0") < 0);
    CHECK(compare_versions("1.10.0", "1.9.0") > 0);
    CHECK(compare_versions("1.1", "1.1.0") == 0);
    CHECK(version_at_least("1.1.0", "1.1.0"));
    CHECK_FALSE(version_at_least("0.3.1", "0.4.0"));
}

TEST_CASE("results: 0.3.x/0.4.0 carry a version per IP, 1.x none", "[unit]") {
    const auto old_layout = convert_result(object_of(k_ptp_result), "0.4.0");
    CHECK(old_layout.at("cniVersion") == "0.4.0");
    CHECK(old_layout.at("ips").at(0).at("version") == "4");
    CHECK(old_layout.at("ips").at(1).at("version") == "6");

    const auto back = convert_result(old_layout, "1.0.0");
    CHECK(back.at("cniVersion") == "1.0.0");
    CHECK_FALSE(back.at("ips").at(0).as_object().contains("version"));
    CHECK(boost::json::serialize(back) == boost::json::serialize(convert_result(object_of(k_ptp_result), "1.0.0")));
}

TEST_CASE("results: fields only 1.1.0 defines are dropped for older versions", "[unit]") {
    const auto newer = object_of(R"({"cniVersion":"1.1.0",
        "interfaces":[{"name":"eth0","sandbox":"/n","mtu":1400,"socketPath":"/s","pciID":"p"}],
        "routes":[{"dst":"0.0.0.0/0","mtu":1400,"advmss":1300,"priority":5,"table":10,"scope":0}]})");
    const auto older = convert_result(newer, "1.0.0");
    CHECK(boost::json::serialize(older.at("interfaces")) == R"([{"name":"eth0","sandbox":"/n"}])");
    CHECK(boost::json::serialize(older.at("routes")) == R"([{"dst":"0.0.0.0/0"}])");
    CHECK(convert_result(newer, "1.1.0").at("interfaces").at(0).as_object().contains("mtu"));
}

TEST_CASE("pod IP: the sandbox interface's IP of each family, preferring CNI_IFNAME", "[unit]") {
    const auto ptp = object_of(k_ptp_result);
    CHECK(pod_ip(ptp, Family::v4, "eth0") == ip("10.0.0.5"));
    CHECK(pod_ip(ptp, Family::v6, "eth0") == ip("fd00::5"));

    const auto two = object_of(R"({"interfaces":[{"name":"net1","sandbox":"/n"},{"name":"eth0","sandbox":"/n"},
                                                 {"name":"br0"}],
        "ips":[{"address":"192.168.1.1/24","interface":2},{"address":"10.1.0.2/24","interface":0},
               {"address":"10.0.0.2/24","interface":1}]})");
    CHECK(pod_ip(two, Family::v4, "eth0") == ip("10.0.0.2"));
    CHECK(pod_ip(two, Family::v4, "net9") == ip("10.1.0.2"));
    CHECK_FALSE(pod_ip(two, Family::v6, "eth0"));

    const auto host_only =
        object_of(R"({"interfaces":[{"name":"br0"}],"ips":[{"address":"10.0.0.1/24","interface":0}]})");
    CHECK_FALSE(pod_ip(host_only, Family::v4, "eth0"));
    const auto no_index = object_of(R"({"ips":[{"address":"10.0.0.9/24"}]})");
    CHECK(pod_ip(no_index, Family::v4, "eth0") == ip("10.0.0.9"));

    CHECK_THROWS_WITH(pod_ip(object_of(R"({"ips":[{"address":"bogus"}]})"), Family::v4, "eth0"),
                      "prevResult.ips[0].address: not an address with prefix length: \"bogus\"");
    CHECK_THROWS_WITH(pod_ip(object_of(R"({"ips":[{"address":"10.0.0.2/24","interface":3}]})"), Family::v4, "eth0"),
                      "prevResult.ips[0].interface: no interface with this index");
}

TEST_CASE("requested IPs: union of runtimeConfig, CNI_ARGS and annotation, deduped and canonical", "[unit]") {
    const auto runtime = object_of(R"({"anycastIPs":["10.255.53.53","FD00:255:0::53"]})");
    IpRequest request;
    request.runtime_config = &runtime;
    request.cni_args = "10.255.53.54, 10.255.53.53";
    request.annotation = "fd00:255::53,10.255.0.1";
    request.annotation_name = "anycast.flock.io/ips";
    const auto ips = requested_ips(request);
    REQUIRE(ips.size() == 4);
    CHECK(ips[0].to_string() == "10.255.0.1");
    CHECK(ips[1].to_string() == "10.255.53.53");
    CHECK(ips[2].to_string() == "10.255.53.54");
    CHECK(ips[3].to_string() == "fd00:255::53");
    CHECK(requested_ips(IpRequest{}).empty());
}

TEST_CASE("requested IPs: a bad IP names its source; too many are refused", "[unit]") {
    const auto runtime = object_of(R"({"anycastIPs":["10.255.53.53","nope"]})");
    IpRequest request;
    request.runtime_config = &runtime;
    CHECK_THROWS_WITH(requested_ips(request), "runtimeConfig.anycastIPs[1]: not an IP address: \"nope\"");
    const auto not_list = object_of(R"({"anycastIPs":"10.0.0.1"})");
    request.runtime_config = &not_list;
    CHECK_THROWS_WITH(requested_ips(request), "runtimeConfig.anycastIPs: expected an array, got a string");

    IpRequest args;
    args.cni_args = "10.0.0.1,10.0.0.1/32";
    CHECK_THROWS_WITH(requested_ips(args), "CNI_ARGS ANYCAST_IPS: not an IP address: \"10.0.0.1/32\"");
    IpRequest annotation;
    annotation.annotation = "x";
    annotation.annotation_name = "a/b";
    CHECK_THROWS_WITH(requested_ips(annotation), "annotation a/b: not an IP address: \"x\"");

    std::string many;
    for (int i = 0; i < 1000; ++i) many += fmt::format("10.255.{}.{},", i / 256, i % 256);
    IpRequest too_many;
    too_many.cni_args = many;
    try {
        requested_ips(too_many);
        FAIL("expected a refusal");
    } catch (const CniError& e) {
        CHECK(e.code() == 7);
        CHECK(std::string(e.what()) == "too many anycast IPs: 1000 requested, at most 256 per attachment");
    }
    // Duplicates do not count twice.
    std::string duplicates;
    for (int i = 0; i < 1000; ++i) duplicates += "10.255.0.1,";
    too_many.cni_args = duplicates;
    CHECK(requested_ips(too_many).size() == 1);
}
