// `plan` against a real kernel table for a fixed input: the exact text, and JSON.
#include "test/support/serve_lab.hpp"
#include "test/support/process.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace anycast;
using namespace anycast::test;

TEST_CASE("plan prints the desired routes, the diff against the kernel and the BIRD include, exactly",
          "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto& a = lab.add_pod(1);
    auto& b = lab.add_pod(2);
    auto& c = lab.add_pod(3);
    lab.write_record(a);
    lab.write_record(b);
    lab.write_record(c, {"10.255.53.53", "10.1.2.3"});
    lab.config["bird"] = boost::json::object{{"enabled", true}, {"fragment", lab.dir.file("flock-anycast.conf")}};
    // Routes alone (resilient groups add their objects to the plan: the next test).
    lab.config["routes"].as_object()["ecmp"] = "multipath";
    lab.write_config();
    lab.set_pods({ServeLab::ready(a), ServeLab::ready(b), ServeLab::deleting(c)});
    // In the kernel: the v4 route with one hop only, and a stale route of ours.
    sh("ip route add 10.255.53.53/32 via " + a.v4 + " dev " + a.host_end + " table 241 proto 241");
    sh("ip route add 10.255.9.9/32 via " + c.v4 + " dev " + c.host_end + " table 241 proto 241");
    const std::string routes_before = ServeLab::routes();

    const auto result = run_process({flock_binary(), "plan", "--config", lab.config_path()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const std::string expected =
        "node worker-1: table 241, protocol 241; 3 records, 2 eligible; readiness file " + lab.dir.file("pods.json") +
        "\n"
        "desired routes (2):\n"
        "  10.255.53.53/32 via 10.0.0.11 dev " +
        a.host_end + ", via 10.0.0.12 dev " + b.host_end +
        "\n"
        "  fd00:255::53/128 via fd00::11 dev " +
        a.host_end + ", via fd00::12 dev " + b.host_end +
        "\n"
        "kernel routes of ours (2):\n"
        "  10.255.9.9/32 via 10.0.0.13 dev " +
        c.host_end +
        "\n"
        "  10.255.53.53/32 via 10.0.0.11 dev " +
        a.host_end +
        "\n"
        "changes (3):\n"
        "  replace 10.255.53.53/32 via 10.0.0.11 dev " +
        a.host_end + ", via 10.0.0.12 dev " + b.host_end +
        "\n"
        "  replace fd00:255::53/128 via fd00::11 dev " +
        a.host_end + ", via fd00::12 dev " + b.host_end +
        "\n"
        "  delete 10.255.9.9/32 via 10.0.0.13 dev " +
        c.host_end +
        "\n"
        "skipped (1):\n"
        "  k8s_c-pod3_eth0: 10.1.2.3 skipped: 10.1.2.3 is outside policy.allowedPrefixes "
        "(10.255.0.0/16, fd00:255::/48)\n"
        "bird include " +
        lab.dir.file("flock-anycast.conf") +
        ":\n"
        "  # Written by flock-anycast serve: the anycast prefixes it has routes for.\n"
        "  # Do not edit; it is rewritten on every change and read by flock.conf.\n"
        "  define FLOCK_ANYCAST_V4 = [ 10.255.53.53/32 ];\n"
        "  define FLOCK_ANYCAST_V6 = [ fd00:255::53/128 ];\n"
        "  # Per-prefix BGP attributes (bgp.prefixes in the node config), most specific prefix "
        "first.\n"
        "  function flock_prefix_attributes()\n"
        "  {\n"
        "      return true;\n"
        "  }\n";
    CHECK(result.out == expected);
    // plan changes nothing.
    CHECK(ServeLab::routes() == routes_before);

    const auto json_result = run_process({flock_binary(), "plan", "--config", lab.config_path(), "--json"});
    REQUIRE(json_result.exit_code == 0);
    const auto doc = boost::json::parse(json_result.out).as_object();
    CHECK(doc.at("kernelReadable").as_bool());
    CHECK(doc.at("replace").as_array().size() == 2);
    CHECK(doc.at("delete").as_array().size() == 1);
    CHECK(doc.at("skipped").as_array().size() == 1);
}

TEST_CASE("plan --readiness-file overrides the configured source; status reports records, pods, routes and sync",
          "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto& a = lab.add_pod(1);
    lab.write_record(a, {"10.255.53.53"});
    lab.set_pods({});
    lab.config["routes"].as_object()["ecmp"] = "multipath";
    lab.write_config();
    const std::string other = lab.dir.file("other.json");
    sh("echo '[{\"namespace\":\"dns\",\"name\":\"pod1\",\"ready\":true}]' > " + other);

    const auto plan = run_process({flock_binary(), "plan", "--config", lab.config_path(), "--readiness-file", other});
    INFO(plan.err);
    REQUIRE(plan.exit_code == 0);
    CHECK(plan.out.find("  replace 10.255.53.53/32 via 10.0.0.11 dev " + a.host_end + "\n") != std::string::npos);

    const auto out_of_sync =
        run_process({flock_binary(), "status", "--config", lab.config_path(), "--readiness-file", other});
    CHECK(out_of_sync.exit_code == 1);
    CHECK(out_of_sync.out.find("  k8s_c-pod1_eth0 pod dns/pod1 ips 10.255.53.53: eligible\n") != std::string::npos);
    CHECK(out_of_sync.out.find("out of sync (1):\n  missing or different: 10.255.53.53/32") != std::string::npos);

    const auto in_sync = run_process({flock_binary(), "status", "--config", lab.config_path()});
    CHECK(in_sync.exit_code == 0);
    CHECK(in_sync.out.find("  k8s_c-pod1_eth0 pod dns/pod1 ips 10.255.53.53: pod unknown\n") != std::string::npos);
    CHECK(in_sync.out.find("eligible pods (0):\n") != std::string::npos);
    CHECK(in_sync.out.find("in sync\n") != std::string::npos);
}

TEST_CASE("in resilient mode plan lists the nexthop objects it would make, and status is in sync once serve made them",
          "[netns][serve][ecmp]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(2);
    const auto plan = run_process({flock_binary(), "plan", "--config", lab.config_path()});
    INFO(plan.out << plan.err);
    REQUIRE(plan.exit_code == 0);
    // Two gateways and a group per family, and the two routes naming the groups.
    CHECK(plan.out.find("changes (8):\n") != std::string::npos);
    CHECK(plan.out.find("nexthop create id 4043309058 group 4043309056/4043309057 resilient buckets 128 idle 120s") !=
          std::string::npos);

    auto serve = lab.start_serve();
    REQUIRE(lab.wait_routed_via({&lab.pods[0], &lab.pods[1]}));
    CHECK(ServeLab::v4_route().find("nhid 4043309058") != std::string::npos);
    const auto status = run_process({flock_binary(), "status", "--config", lab.config_path()});
    INFO(status.out);
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("in sync\n") != std::string::npos);
}
