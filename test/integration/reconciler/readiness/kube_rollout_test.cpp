// A Deployment's rolling update of three pods seen from the router (issue 18 item 2): serve in
// the node of test/support/generated_bird_lab.hpp with the kubernetes source, against the
// test apiserver (listening inside the node's namespace). The test plays the kubelet, the CNI
// plugin (records) and the Deployment controller (maxSurge 1, maxUnavailable 0: a new pod,
// wait until it is Ready, delete an old one). Each new pod's record arrives 1 s after its
// containers are ready (a slow CNI ADD or a busy node): with the readiness gate, Ready waits
// for the announcement and the router never loses the prefix; without it, the controller
// removes the old pods before the new ones carry traffic and the router sees the withdrawal.
#include "common/netlink/netns.hpp"
#include "common/store/record_store.hpp"
#include "test/support/background_process.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/generated_bird_lab.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string k_anycast = "10.255.53.53";

struct RolloutLab {
    GeneratedLab lab{{}};
    std::unique_ptr<TestApiserver> server;
    std::unique_ptr<BackgroundProcess> serve;
    bool gated;
    std::vector<double> gate_ms;  // containers ready → Ready (the gate True), per new pod
    std::vector<std::thread> cni_adds;

    explicit RolloutLab(bool with_gate) : gated(with_gate) {
        {
            // serve runs in the node: the apiserver listens on the node's loopback.
            common::netlink::NetnsGuard in_node(lab.node.path());
            server = std::make_unique<TestApiserver>();
        }
        json::object config = lab.config();
        config["node"] = "worker-1";
        config["stateDir"] = lab.dir.file("state");
        config["kubeconfig"] = server->write_kubeconfig(lab.dir.file("kubeconfig"));
        config["readiness"] = json::object{{"source", "kubernetes"}};
        config["metrics"] = json::object{{"listen", ""}};
        config["policy"] = json::object{{"allowedPrefixes", json::array{"10.255.0.0/16"}}};
        auto& bird = config["bird"].as_object();
        bird["socket"] = lab.node_bird->socket();
        bird["config"] = lab.node_bird->config_path();
        std::ofstream(lab.dir.file("serve.json")) << json::serialize(config);
        for (int i = 0; i < 3; ++i) {
            add_pod("old-" + std::to_string(i), 10 + i);
            write_record("old-" + std::to_string(i), 10 + i);
        }
        serve = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"ip", "netns", "exec", lab.node.name(), flock_binary(), "serve", "--config",
                                     lab.dir.file("serve.json")},
            lab.dir.file("serve.log"));
        if (!wait_until(
                [&] { return lab.router_routes() == 1 && ready("old-0") && ready("old-1") && ready("old-2"); })) {
            throw std::runtime_error("the old pods never became Ready with the prefix at the router:\n" + log() +
                                     lab.logs());
        }
    }

    json::object pod_object(const std::string& name) const {
        auto pod = make_pod("dns", name, "worker-1", false, k_anycast);
        if (gated) add_readiness_gate(pod);
        return pod;
    }
    // The kubelet: containers started and their readiness probe passed.
    void add_pod(const std::string& name, int) {
        auto pod = pod_object(name);
        set_containers_ready(pod, true);
        server->put_pod(pod);
    }
    // The CNI plugin's record: the pod at 10.1.1.<host> behind the node's n-p. A store of its
    // own each time, as each plugin run has: the store's lock is per open file.
    void write_record(const std::string& name, int host) {
        common::RecordStore(lab.dir.file("state"))
            .put(RecordBuilder("k8s", "c-" + name)
                     .netns(lab.node.path())
                     .pod("dns", name, "uid-dns-" + name)
                     .ip(k_anycast)
                     .nexthop("10.1.1." + std::to_string(host), "n-p")
                     .build());
    }
    bool ready(const std::string& name) const {
        const auto pod = server->pod("dns", name);
        return pod && condition_of(*pod, "Ready") == "True";
    }
    // The Deployment controller's scale-down of an old pod: deletionTimestamp (SIGTERM), the
    // CNI DEL, then the object goes.
    void delete_pod(const std::string& name) {
        auto pod = *server->pod("dns", name);
        set_deleting(pod);
        server->put_pod(pod);
        common::RecordStore(lab.dir.file("state")).remove("k8s", "c-" + name, "eth0");
        server->delete_pod("dns", name);
    }

    // One step of the rollout: new pod i, Ready, then old pod i deleted.
    void step(int i) {
        const std::string name = "new-" + std::to_string(i);
        add_pod(name, 20 + i);
        const auto containers_ready = Clock::now();
        cni_adds.emplace_back([this, name, i] {
            std::this_thread::sleep_for(1s);  // the slow CNI ADD
            write_record(name, 20 + i);
        });
        const bool became_ready = wait_until([&] { return ready(name); }, 10s, 1ms);
        gate_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - containers_ready).count());
        REQUIRE(became_ready);
        delete_pod("old-" + std::to_string(i));
    }
    void finish() {
        for (auto& add : cni_adds) add.join();
        cni_adds.clear();
    }
    ~RolloutLab() { finish(); }

    std::string log() const { return read_text_file(lab.dir.file("serve.log")); }
};

}  // namespace

TEST_CASE("a rolling update with the readiness gate never withdraws the prefix at the router; without it, it does",
          "[bird][netns][serve][kube][gate]") {
    const bool with_gate = GENERATE(true, false);
    RolloutLab r(with_gate);
    INFO((with_gate ? "with" : "without") << " the readiness gate");
    RouteMonitorLog monitor(r.lab.router, r.lab.dir.file("router-monitor.log"));
    for (int i = 0; i < 3; ++i) r.step(i);
    r.finish();
    // The new pods carry the prefix in the end either way.
    REQUIRE(wait_until([&] { return r.lab.router_routes() == 1; }, 10s));
    const std::string seen = monitor.stop();
    const int withdrawals = monitor_deletions(seen, k_anycast);
    WARN("rollout " << (with_gate ? "with" : "without") << " the gate: containers ready -> Ready "
                    << fmt::format("{:.0f}", r.gate_ms[0]) << ", " << fmt::format("{:.0f}", r.gate_ms[1]) << ", "
                    << fmt::format("{:.0f}", r.gate_ms[2]) << " ms; withdrawals seen by the router: " << withdrawals);
    if (with_gate) {
        CHECK(withdrawals == 0);
        // Ready came only after the record (1 s) and the announcement.
        CHECK(*std::min_element(r.gate_ms.begin(), r.gate_ms.end()) >= 1000);
        CHECK(r.lab.established());
    } else {
        CHECK(withdrawals >= 1);
        CHECK(*std::max_element(r.gate_ms.begin(), r.gate_ms.end()) < 1000);
    }
}
