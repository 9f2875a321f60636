// CNI ADD end to end with the pod annotation served by the test apiserver: the plugin binary
// is exec'd as a runtime would, in a private namespace with a pod namespace and a veth.
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/test_apiserver.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <filesystem>

using namespace anycast::test;
namespace json = boost::json;

namespace {

// A pod namespace with eth0 = 10.0.0.12/24 behind a host-side veth 10.0.0.1/24, the
// apiserver holding pod dns/<name>, and a temporary state directory.
struct CniPod {
    PrivateNetns netns;
    TestApiserver server;
    NamedNetns pod{"pod"};
    std::string host_end = unique_name("veth");
    std::string state_dir;
    std::string kubeconfig;

    CniPod() {
        make_veth(host_end, "eth0", pod.name());
        sh("ip addr add 10.0.0.1/24 dev " + host_end);
        pod.exec("ip addr add 10.0.0.12/24 dev eth0 && ip route add default via 10.0.0.1");
        state_dir = server.pki().dir.file("state");
        kubeconfig = server.write_kubeconfig(server.pki().dir.file("kubeconfig"));
    }

    ProcessResult add(const std::string& pod_name,
                      const json::object& policy = {{"allowedPrefixes", json::array{"10.255.0.0/16"}}}) const {
        const json::object prev{{"cniVersion", "1.0.0"},
                                {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", pod.path()}}}},
                                {"ips", json::array{json::object{{"address", "10.0.0.12/24"}, {"interface", 0}}}}};
        const json::object config{{"cniVersion", "1.0.0"}, {"name", "k8s-pod-network"}, {"type", "flock-anycast"},
                                  {"stateDir", state_dir}, {"kubeconfig", kubeconfig},  {"policy", policy},
                                  {"prevResult", prev}};
        return run_process({flock_binary()},
                           {.env = {{{"CNI_COMMAND", "ADD"},
                                     {"CNI_CONTAINERID", "c0ffee-" + pod_name},
                                     {"CNI_NETNS", pod.path()},
                                     {"CNI_IFNAME", "eth0"},
                                     {"CNI_PATH", "/opt/cni/bin"},
                                     {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=" + pod_name +
                                                      ";K8S_POD_UID=uid-dns-" + pod_name}}},
                            .stdin_text = json::serialize(config)});
    }
};

int error_code(const ProcessResult& result) {
    INFO(result.out << result.err);
    return static_cast<int>(json::parse(result.out).as_object().at("code").as_int64());
}

}  // namespace

TEST_CASE("CNI ADD adds the IPs of the pod's annotation, served by the apiserver", "[kube][cni]") {
    CniPod p;
    p.server.put_pod(make_pod("dns", "resolver", "worker-1", false, "10.255.53.53"));
    const auto result = p.add("resolver");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("10.255.53.53") == std::string::npos);  // the result is the main plugin's
    CHECK(p.pod.exec("ip -4 addr show dev lo").find("10.255.53.53/32") != std::string::npos);
}

TEST_CASE("CNI ADD refuses an annotation IP outside the policy with code 100", "[kube][cni]") {
    CniPod p;
    p.server.put_pod(make_pod("dns", "rogue", "worker-1", true, "10.99.0.1"));
    const auto result = p.add("rogue");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 100);
    CHECK(p.pod.exec("ip -4 addr show dev lo").find("10.99.0.1") == std::string::npos);
}

TEST_CASE("CNI ADD for a pod the apiserver does not know fails with code 102", "[kube][cni]") {
    CniPod p;
    const auto result = p.add("ghost");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 102);
    CHECK(result.out.find("not found") != std::string::npos);
}

TEST_CASE("CNI ADD with the apiserver down fails with code 11 (try again later)", "[kube][cni]") {
    CniPod p;
    p.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    p.server.go_away();
    const auto result = p.add("resolver");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 11);
    CHECK(p.pod.exec("ip -4 addr show dev lo").find("10.255.53.53") == std::string::npos);
}

TEST_CASE("a pod whose namespace may claim nothing starts with the apiserver down, and nothing is asked",
          "[kube][cni]") {
    CniPod p;
    p.server.go_away();
    // dns may claim nothing: no allowedPrefixes, or all of them reserved for web.
    const json::object policy =
        GENERATE(json::object{{"namespaces", json::object{{"web", json::array{"10.255.80.0/24"}}}}},
                 json::object{{"allowedPrefixes", json::array{"10.255.80.0/24"}},
                              {"namespaces", json::object{{"web", json::array{"10.255.80.0/24"}}}}});
    INFO(json::serialize(policy));
    const auto result = p.add("resolver", policy);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto out = json::parse(result.out).as_object();
    CHECK(out.at("ips").as_array().size() == 1);  // prevResult's, passed through
    CHECK(p.pod.exec("ip -4 addr show dev lo").find("10.255.") == std::string::npos);
    p.server.come_back();
    CHECK(p.server.requests().empty());
}
