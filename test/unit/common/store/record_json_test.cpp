#include "common/json_reader.hpp"
#include "common/store/record_json.hpp"

#include "test/support/record_builder.hpp"

#include <catch2/catch.hpp>

using namespace anycast::common;

namespace {

Record sample() {
    return anycast::test::RecordBuilder("k8s-pod-network", "abc123")
        .netns("/var/run/netns/x")
        .pod("dns", "coredns-0", "u-1")
        .ip("10.255.53.53")
        .ip("fd00:255::53")
        .nexthop("10.0.0.12", "veth3a1f")
        .nexthop("fd00::12", "veth3a1f")
        .created("2026-11-24T10:00:00Z")
        .build();
}

}  // namespace

TEST_CASE("record JSON is exactly the documented layout", "[unit]") {
    CHECK(serialize_record(sample()) ==
          R"({"version":1,"network":"k8s-pod-network","containerID":"abc123","ifname":"eth0",)"
          R"("netns":"/var/run/netns/x","pod":{"namespace":"dns","name":"coredns-0","uid":"u-1"},)"
          R"("ips":["10.255.53.53","fd00:255::53"],)"
          R"("nexthops":[{"family":4,"via":"10.0.0.12","hostIface":"veth3a1f"},)"
          R"({"family":6,"via":"fd00::12","hostIface":"veth3a1f"}],"created":"2026-11-24T10:00:00Z"})");
}

TEST_CASE("record JSON round-trips and ignores unknown fields", "[unit]") {
    const Record original = sample();
    auto doc = record_to_json(original);
    doc.as_object()["futureField"] = "x";
    const Record back = record_from_json(doc);
    CHECK(serialize_record(back) == serialize_record(original));
    CHECK(back.pod.namespace_ == "dns");
    CHECK(back.nexthops[1].family == Family::v6);
}

TEST_CASE("record JSON errors name the field", "[unit]") {
    struct Case {
        const char* patch;  // replaces one field of the sample
        const char* message;
    };
    const Case cases[] = {
        {R"({"version":0})", "version: 0 is out of range"},
        {R"({"version":2,"ips":"x"})", "ips: expected an array"},
        {R"({"network":""})", "network: must not be empty"},
        {R"({"containerID":7})", "containerID: expected a string, got an integer"},
        {R"({"ips":["10.0.0.1","nope"]})", "ips[1]: not an IP address: \"nope\""},
        {R"({"nexthops":[{"family":4,"via":"fd00::1","hostIface":"v"}]})",
         "nexthops[0].via: fd00::1 is not an IPv4 address"},
        {R"({"nexthops":[{"family":5,"via":"10.0.0.1","hostIface":"v"}]})", "nexthops[0].family: must be 4 or 6"},
        {R"({"nexthops":[{"family":4,"via":"10.0.0.1"}]})", "nexthops[0].hostIface: missing"},
    };
    for (const auto& c : cases) {
        INFO(c.patch);
        auto doc = record_to_json(sample());
        const auto patch = parse_json(c.patch, "patch");
        for (const auto& [key, value] : patch.as_object()) doc.as_object()[key] = value;
        CHECK_THROWS_WITH(record_from_json(doc), Catch::StartsWith(c.message));
    }
    auto doc = record_to_json(sample());
    doc.as_object().erase("ips");
    CHECK_THROWS_WITH(record_from_json(doc), "ips: missing");
    CHECK_THROWS_WITH(parse_record("{\"version\":", "/s/r.json"), Catch::StartsWith("/s/r.json: invalid JSON"));
    CHECK_THROWS_WITH(parse_record("[]", "/s/r.json"), "expected an object, got an array");
}
