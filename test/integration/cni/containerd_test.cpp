// flock-anycast under a real container runtime: Debian's containerd and `ctr run --cni` run a
// bridge + host-local + flock-anycast conflist (the plugin entry's own anycastIPs, no
// Kubernetes) for a container of a local busybox image, and serve routes the container's
// anycast IP. Everything runs in the test's private network namespace (the node) and a private
// mount namespace (test/support/containerd_lab.hpp); docs/containerd.md does it by hand.
#include "test/support/background_process.hpp"
#include "test/support/containerd_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace anycast::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_anycast = "10.255.53.53";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The node: one config for the plugin (configFile) and serve, state in the lab's temp dir,
// readiness `always` (no Kubernetes, every attached container may take traffic), no BIRD.
struct Node {
    explicit Node(ContainerdLab& lab) : lab(lab) {
        const json::object config{{"node", "ctr-node"},
                                  {"stateDir", state_dir},
                                  {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16"}}}},
                                  {"routes", json::object{{"protocol", 241}, {"table", 241}, {"rulePriority", 1000}}},
                                  {"readiness", json::object{{"source", "always"}}},
                                  {"bird", json::object{{"enabled", false}}},
                                  {"metrics", json::object{{"listen", ""}}},
                                  {"logLevel", "debug"},
                                  {"resyncSeconds", 1}};
        lab.dir().write("flock-anycast.json", json::serialize(config));
        const json::object conflist{
            {"cniVersion", "1.0.0"},
            {"name", "anycast"},
            {"plugins",
             json::array{
                 json::object{{"type", "bridge"},
                              {"bridge", bridge},
                              {"isGateway", true},
                              {"ipam", json::object{{"type", "host-local"},
                                                    {"dataDir", lab.dir().file("ipam")},
                                                    // Parsed: `array{array{x}}` is a copy of the inner
                                                    // array for clang (CWG 2137), a nesting for GCC.
                                                    {"ranges", json::parse(R"([[{"subnet": "10.88.10.0/24"}]])")}}}},
                 json::object{
                     {"type", "flock-anycast"}, {"anycastIPs", json::array{k_anycast}}, {"configFile", config_path}}}}};
        lab.write_conflist("10-anycast.conflist", json::serialize(conflist));
    }

    std::string record_path(const std::string& container) const {
        return state_dir + "/records/anycast_" + lab.ctr_namespace() + "-" + container + "_eth0.json";
    }
    std::unique_ptr<BackgroundProcess> start_serve() const {
        return std::make_unique<BackgroundProcess>(
            std::vector<std::string>{flock_binary(), "serve", "--config", config_path}, serve_log);
    }
    // Our route to the anycast IP ("" when absent or the table does not exist yet).
    static std::string route() {
        const auto result = sh_result(std::string("ip route show table 241 ") + k_anycast);
        return result.exit_code == 0 ? result.out : std::string();
    }
    std::string logs() const {
        return "serve log:\n" + read_file(serve_log) + "containerd log (tail):\n" +
               sh_result("tail -n 20 " + lab.dir().file("containerd.log")).out;
    }

    ContainerdLab& lab;
    std::string bridge = unique_name("br");
    std::string state_dir = lab.dir().file("state-flock");
    std::string config_path = lab.dir().file("flock-anycast.json");
    std::string serve_log = lab.dir().file("serve.log");
};

// What ADD left, seen from the record, from inside the container and from the node, and serve's
// route to the container; returns that route's hop ("via 10.88.10.2 dev <bridge>").
std::string check_attached(ContainerdLab& lab, const Node& node, const std::string& container) {
    const json::object record = json::parse(read_file(node.record_path(container))).as_object();
    // ctr starts the task after the CNI ADD has written the record: wait until it runs.
    pid_t pid = 0;
    REQUIRE(wait_until([&] { return (pid = lab.task_pid(container)) > 0; }, std::chrono::seconds(10)));
    // ctr names the attachment "<namespace>-<container>" and passes its task's netns by pid.
    CHECK(record.at("containerID") == (lab.ctr_namespace() + "-" + container).c_str());
    CHECK(record.at("netns") == ("/proc/" + std::to_string(pid) + "/ns/net").c_str());
    CHECK(record.at("ips") == json::value(json::array{k_anycast}));
    const auto& hops = record.at("nexthops").as_array();
    REQUIRE(hops.size() == 1);
    CHECK(hops[0].at("hostIface") == node.bridge.c_str());
    const std::string via(hops[0].at("via").as_string());
    CHECK(via.starts_with("10.88.10."));

    CHECK(lab.exec(container, "ip addr show dev lo").find(std::string("inet ") + k_anycast + "/32") !=
          std::string::npos);
    CHECK(sh("nsenter --net=/proc/" + std::to_string(pid) + "/ns/net ip -o addr show dev lo")
              .find(std::string(k_anycast) + "/32") != std::string::npos);
    const std::string hop = "via " + via + " dev " + node.bridge;
    CHECK(wait_until([&] { return Node::route().find(hop) != std::string::npos; }, std::chrono::seconds(10)));
    return hop;
}

// The node with containerd and serve running, in the test's own namespaces.
struct CtrNode {
    PrivateNetns netns;
    ContainerdLab lab;
    Node node{lab};
    std::unique_ptr<BackgroundProcess> serve = node.start_serve();
};

// Fails, naming what is missing, when the machine lacks containerd's parts: test/run.sh
// installs them, so a test that passed without them would prove nothing.
void require_containerd() {
    const std::string missing = ContainerdLab::missing();
    INFO("the containerd test needs " << missing
                                      << "; test/install-deps.sh installs containerd, runc and busybox-static");
    REQUIRE(missing.empty());
}

}  // namespace

TEST_CASE(
    "ctr run --cni: ADD puts the anycast IP on the container's lo, serve routes it, and the DEL ctr makes "
    "when the task exits withdraws it",
    "[netns][cni][containerd]") {
    require_containerd();
    CtrNode ctr;
    ContainerdLab& lab = ctr.lab;
    const Node& node = ctr.node;

    // --rm without -d: ctr waits for the task and, once it exits, makes the CNI DEL (containerd
    // 1.6's ctr makes none for a detached container, below).
    auto ctr_run = lab.run_attached("c1", {"/bin/sleep", "600"});
    if (!wait_until([&] { return fs::exists(node.record_path("c1")); }, std::chrono::seconds(20))) {
        FAIL("no record after 20 s; ctr's output:\n" << read_file(lab.dir().file("ctr-c1.log")) << node.logs());
    }
    check_attached(lab, node, "c1");

    lab.ctr_ok({"task", "kill", "-s", "SIGKILL", "c1"});
    REQUIRE(wait_until([&] { return !ctr_run->alive(); }, std::chrono::seconds(20)));
    // ctr passed no netns to DEL (the task's is gone with it): the plugin removed the record,
    // unless serve's stale-record sweep (every resync, 1 s here) found the task's netns gone
    // and removed it first; either way it is gone.
    const std::string ctr_log = read_file(lab.dir().file("ctr-c1.log"));
    CHECK(ctr_log.find("command=DEL") != std::string::npos);
    INFO(ctr_log << node.logs());
    CHECK((ctr_log.find("recordRemoved=true") != std::string::npos ||
           node.logs().find("removed a record whose network namespace is gone") != std::string::npos));
    CHECK_FALSE(fs::exists(node.record_path("c1")));
    CHECK(wait_until([&] { return node.route().empty(); }, std::chrono::seconds(10)));
    // --rm also removed the task and the container.
    CHECK(lab.ctr_ok({"container", "ls", "-q"}).find("c1") == std::string::npos);
}

TEST_CASE(
    "ctr run --cni -d: containerd 1.6's ctr makes no DEL on task kill, task rm or container rm; serve's resync "
    "removes the record once the task's process is gone, and withdraws the route",
    "[netns][cni][containerd]") {
    require_containerd();
    CtrNode ctr;
    ContainerdLab& lab = ctr.lab;
    const Node& node = ctr.node;

    lab.run_detached("c2", {"/bin/sleep", "600"});
    INFO(node.logs());
    REQUIRE(fs::exists(node.record_path("c2")));
    const std::string hop = check_attached(lab, node, "c2");

    lab.ctr_ok({"task", "kill", "-s", "SIGKILL", "c2"});
    REQUIRE(wait_until([&] { return lab.task_pid("c2") == 0; }, std::chrono::seconds(10)));
    lab.ctr_ok({"task", "rm", "c2"});
    lab.ctr_ok({"container", "rm", "c2"});
    // A measured fact about the runtime: ctr 1.6 calls CNI DEL only for `run --rm` in the
    // foreground. The record names CNI_NETNS=/proc/<task pid>/ns/net, gone with the process:
    // serve's stale-record sweep (every resync, 1 s here; serve runs in the host's pid
    // namespace) removes the record and the route goes with it.
    CHECK(wait_until([&] { return !fs::exists(node.record_path("c2")); }, std::chrono::seconds(10)));
    CHECK(wait_until([&] { return node.route().empty(); }, std::chrono::seconds(10)));
    // The log file may trail the pass by a moment under ASan and load: wait for the line too.
    CHECK(wait_until(
        [&] { return node.logs().find("removed a record whose network namespace is gone") != std::string::npos; },
        std::chrono::seconds(5)));
}
