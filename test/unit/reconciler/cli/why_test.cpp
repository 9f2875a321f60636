// `why IP` rendering (reconciler/cli/why): the pods that asked, eligibility and policy, routes,
// the include and BIRD's view, one line each.
#include "reconciler/cli/why.hpp"
#include "test/support/record_builder.hpp"

#include <catch2/catch.hpp>

using namespace anycast;

TEST_CASE("why names each asking pod with its eligibility, the policy's refusal and BIRD's sessions",
          "[unit][reconciler]") {
    common::NodeConfig config;
    config.node = "worker-1";
    config.policy.namespaces["dns"] = {*common::Prefix::parse("10.255.53.0/24")};
    config.bird.config = "/run/bird/bird.conf";
    const std::vector<common::Record> records = {
        test::RecordBuilder("k8s", "a")
            .pod("dns", "resolver-0", "u-0")
            .ip("10.255.53.53")
            .nexthop("10.0.0.12", "veth-a")
            .build(),
        test::RecordBuilder("k8s", "b")
            .pod("dns", "resolver-1", "u-1")
            .ip("10.255.53.53")
            .nexthop("10.0.0.13", "veth-b")
            .build(),
        test::RecordBuilder("k8s", "c")
            .pod("web", "rogue", "u-2")
            .ip("10.255.53.53")
            .nexthop("10.0.0.14", "veth-c")
            .build(),
        test::RecordBuilder("k8s", "d")
            .pod("dns", "other", "u-3")
            .ip("10.255.53.54")
            .nexthop("10.0.0.15", "veth-a")
            .build(),
    };
    reconciler::ReadinessSnapshot pods;
    pods.pods = {{"dns", "resolver-0", "u-0", true, false},
                 {"dns", "resolver-1", "u-1", true, true},
                 {"web", "rogue", "u-2", true, false}};
    const std::vector<common::netlink::Route> kernel;
    const reconciler::LinkTable links({{7, "veth-a", true}, {8, "veth-b", true}, {9, "veth-c", true}});
    const reconciler::PlanInputs inputs{config, records, pods, "file", kernel, std::nullopt, links};
    const auto plan = reconciler::make_plan(inputs);
    reconciler::BirdView bird;
    bird.table = "flock4";
    bird.learnt = true;
    bird.exports = {{"bgp_rr1", true}, {"bgp_rr2", false}};
    const std::string text = reconciler::render_why({inputs,
                                                     plan,
                                                     *common::IpAddress::parse("10.255.53.53"),
                                                     std::string("define FLOCK_ANYCAST_V4 = [ 10.255.53.53/32 ];\n"),
                                                     {},
                                                     bird});
    INFO(text);
    CHECK(text.rfind("10.255.53.53/32\n  asked for by 3 records\n", 0) == 0);
    CHECK(text.find("k8s_a_eth0: pod dns/resolver-0 (uid u-0), eligible\n") != std::string::npos);
    CHECK(text.find("k8s_b_eth0: pod dns/resolver-1 (uid u-1), not eligible: deleting\n") != std::string::npos);
    CHECK(text.find("k8s_c_eth0: pod web/rogue (uid u-2), eligible\n      policy refuses it: ") != std::string::npos);
    CHECK(text.find("resolver-0") < text.find("resolver-1"));
    CHECK(text.find("other") == std::string::npos);  // asked for another address
    CHECK(text.find("desired route: 10.255.53.53/32 via 10.0.0.12 dev veth-a\n") != std::string::npos);
    CHECK(text.find("kernel route (table 241, protocol 241): none\n") != std::string::npos);
    CHECK(text.find(": lists it\n") != std::string::npos);
    CHECK(text.find("BIRD table flock4: learnt\n") != std::string::npos);
    CHECK(text.find("BIRD session bgp_rr1: exported\n") != std::string::npos);
    CHECK(text.find("BIRD session bgp_rr2: not exported\n") != std::string::npos);
}
