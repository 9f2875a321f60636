// The readiness gate and events (issue 18 items 2 and 3): serve with the kubernetes source
// against the test apiserver, which takes pods/status patches and Events as the real one
// does (test/support/apiserver_writes.hpp) and plays the kubelet's part in Ready.
#include "test/support/logged_check.hpp"
#include "test/support/netns.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

using namespace anycast::test;
namespace json = boost::json;

namespace {

const std::string k_gate = "anycast.flock.io/announced";

std::optional<std::string> gate_of(const TestApiserver& server, const std::string& name) {
    const auto pod = server.pod("dns", name);
    return pod ? condition_of(*pod, k_gate) : std::nullopt;
}

std::vector<std::string> event_reasons(const TestApiserver& server, const std::string& name) {
    std::vector<std::string> reasons;
    for (const auto& event : server.events()) {
        if (event.at("involvedObject").at("name").as_string() == name)
            reasons.emplace_back(event.at("reason").as_string());
    }
    return reasons;
}

struct GateLab {
    PrivateNetns netns;
    TestApiserver server;
    ServeLab lab;

    GateLab() {
        lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
        lab.config["readiness"] = json::object{{"source", "kubernetes"}};
        lab.write_config();
    }

    // A veth pod with a record for `ip`, in the apiserver with our gate and ContainersReady
    // True (so Ready False: the kubelet waits on the gate).
    std::pair<const ServePod*, json::object> gated_pod(int index, const std::string& ip) {
        const ServePod& pod = lab.add_pod(index);
        lab.write_record(pod, {ip});
        auto object = make_pod("dns", pod.name, "worker-1", false, ip);
        add_readiness_gate(object);
        set_containers_ready(object, true);
        server.put_pod(object);
        return {&pod, object};
    }
};

}  // namespace

TEST_CASE(
    "a gated pod becomes eligible on ContainersReady; serve sets the gate True once routed and False when "
    "withdrawn, with events",
    "[kube][serve][gate]") {
    GateLab g;
    auto [pod_ptr, resolver] = g.gated_pod(1, ServeLab::anycast_v4);
    const ServePod& pod = *pod_ptr;
    REQUIRE(condition_of(resolver, "Ready") == "False");  // the kubelet waits on our gate
    const auto serve = g.lab.start_serve();

    // Routed on ContainersReady (not on Ready, which waits for us: no deadlock), then the
    // condition: the kubelet turns Ready True.
    REQUIRE_LOGGED(g.lab.log(), wait_until([] { return !ServeLab::v4_route().empty(); }));
    REQUIRE_LOGGED(g.lab.log(), wait_until([&] { return gate_of(g.server, pod.name) == "True"; }));
    CHECK(condition_of(*g.server.pod("dns", pod.name), "Ready") == "True");
    REQUIRE_LOGGED(g.lab.log(), wait_until([&] {
                       return event_reasons(g.server, pod.name) == std::vector<std::string>{"AnycastAnnounced"};
                   }));
    const auto event = g.server.events().front();
    CHECK(event.at("type") == "Normal");
    CHECK(event.at("involvedObject").at("uid").as_string() == "uid-dns-" + pod.name);
    CHECK_THAT(std::string(event.at("message").as_string()),
               Catch::Matchers::Contains("10.255.53.53/32 announced by node worker-1"));
    for (const auto& write : g.server.writes()) {
        CHECK(write.status < 300);
        CHECK((write.target == "/api/v1/namespaces/dns/pods/" + pod.name + "/status" ||
               write.target == "/api/v1/namespaces/dns/events"));
    }

    // The readiness probe fails: the route goes, the gate turns False, and the pod hears why.
    set_containers_ready(resolver, false);
    g.server.put_pod(resolver);
    REQUIRE_LOGGED(g.lab.log(), wait_until([] { return ServeLab::v4_route().empty(); }));
    REQUIRE_LOGGED(g.lab.log(), wait_until([&] { return gate_of(g.server, pod.name) == "False"; }));
    REQUIRE_LOGGED(g.lab.log(), wait_until([&] { return event_reasons(g.server, pod.name).size() == 2; }));
    CHECK(event_reasons(g.server, pod.name)[1] == "AnycastWithdrawn");
    CHECK_THAT(std::string(g.server.events()[1].at("message").as_string()), Catch::Matchers::Contains("not ready"));

    // A pod without the gate gets events, never a patch.
    const ServePod& plain = g.lab.add_pod(2);
    g.server.put_pod(make_pod("dns", plain.name, "worker-1", true, ServeLab::anycast_v4));
    g.lab.write_record(plain, {ServeLab::anycast_v4});
    REQUIRE_LOGGED(g.lab.log(), wait_until([&] {
                       return event_reasons(g.server, plain.name) == std::vector<std::string>{"AnycastAnnounced"};
                   }));
    CHECK_FALSE(gate_of(g.server, plain.name).has_value());
}

TEST_CASE("an address refused by policy is a Warning event on the pod, and its gate stays False",
          "[kube][serve][gate]") {
    GateLab g;
    const ServePod& pod = *g.gated_pod(1, "10.9.9.9").first;  // outside policy.allowedPrefixes
    const auto serve = g.lab.start_serve();

    REQUIRE_LOGGED(g.lab.log(), wait_until([&] { return !event_reasons(g.server, pod.name).empty(); }));
    const auto event = g.server.events().front();
    CHECK(event.at("reason") == "AnycastRefused");
    CHECK(event.at("type") == "Warning");
    CHECK_THAT(std::string(event.at("message").as_string()), Catch::Matchers::Contains("10.9.9.9"));
    CHECK(ServeLab::v4_route().empty());
    // Absent reads as False to the kubelet: serve does not write False where nothing was.
    CHECK_FALSE(gate_of(g.server, pod.name).has_value());
    CHECK(condition_of(*g.server.pod("dns", pod.name), "Ready") == "False");
}

TEST_CASE("while the apiserver refuses writes, the gate is retried until it lands; routes do not wait",
          "[kube][serve][gate]") {
    GateLab g;
    const ServePod& pod = *g.gated_pod(1, ServeLab::anycast_v4).first;
    g.server.fail_writes(503);
    const auto serve = g.lab.start_serve();

    REQUIRE_LOGGED(g.lab.log(), wait_until([] { return !ServeLab::v4_route().empty(); }));
    REQUIRE_LOGGED(g.lab.log(),
                   wait_until([&] { return g.server.writes().size() >= 3; }));  // the first try and retries
    CHECK_FALSE(gate_of(g.server, pod.name).has_value());
    g.server.fail_writes(0);
    REQUIRE_LOGGED(g.lab.log(),
                   wait_until([&] { return gate_of(g.server, pod.name) == "True"; }, std::chrono::seconds(10)));
}
