// CNI ADD end to end with the pod annotation looked up through serve (issue 16 item 2): the
// plugin binary is exec'd as a runtime would, in a private namespace with a pod namespace and
// a veth; serve runs with the kubernetes source against the test apiserver and answers on
// <stateDir>/serve.sock from its watch's cache, or with a GET of its own on a miss. The
// plugin's config names no kubeconfig: it has no credentials.
#include "common/pod_lookup_protocol.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <sys/stat.h>

using namespace anycast::test;
namespace json = boost::json;

namespace {

// The runtime's side: one pod netns (eth0 = 10.0.0.11 behind a node veth), the apiserver,
// and the node config the plugin and serve share (readiness.source kubernetes, node worker-1).
struct KubeNode {
    PrivateNetns netns;
    TestApiserver server;
    ServeLab lab;
    const ServePod& pod = lab.add_pod(1);

    KubeNode() {
        lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
        lab.config["readiness"] = json::object{{"source", "kubernetes"}};
        lab.write_config();
    }

    std::string socket_path() const { return anycast::common::serve_socket_path(lab.state_dir()); }

    // serve started, listening and synced with the apiserver.
    std::unique_ptr<BackgroundProcess> start_serve() {
        auto serve = lab.start_serve();
        INFO("serve log:\n" << lab.log());
        REQUIRE(wait_until([&] { return std::filesystem::exists(socket_path()); }));
        REQUIRE(wait_until([&] { return server.open_watches() == 1; }));
        return serve;
    }

    // The plugin's config: the shared node config inline, minus serve's credentials.
    ProcessResult add(const std::string& pod_name, const std::string& uid = {},
                      std::optional<json::object> policy = std::nullopt) const {
        json::object config = lab.config;
        config.erase("kubeconfig");
        if (policy) config["policy"] = *policy;
        config["cniVersion"] = "1.0.0";
        config["name"] = "k8s-pod-network";
        config["type"] = "flock-anycast";
        config["prevResult"] =
            json::object{{"cniVersion", "1.0.0"},
                         {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", pod.ns->path()}}}},
                         {"ips", json::array{json::object{{"address", pod.v4 + "/32"}, {"interface", 0}}}}};
        const std::string pod_uid = uid.empty() ? "uid-dns-" + pod_name : uid;
        return run_process({flock_binary()},
                           {.env = {{{"CNI_COMMAND", "ADD"},
                                     {"CNI_CONTAINERID", "c0ffee-" + pod_name},
                                     {"CNI_NETNS", pod.ns->path()},
                                     {"CNI_IFNAME", "eth0"},
                                     {"CNI_PATH", "/opt/cni/bin"},
                                     {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=" + pod_name +
                                                      ";K8S_POD_UID=" + pod_uid}}},
                            .stdin_text = json::serialize(config)});
    }

    std::string lo() const { return pod.ns->exec("ip -4 addr show dev lo"); }
};

int error_code(const ProcessResult& result) {
    INFO(result.out << result.err);
    return static_cast<int>(json::parse(result.out).as_object().at("code").as_int64());
}

std::string error_message(const ProcessResult& result) {
    return std::string(json::parse(result.out).as_object().at("msg").as_string());
}

// Sends `bytes` to serve.sock and returns what serve answers before it closes.
std::string ask_raw(const std::string& path, const std::string& bytes) {
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket socket(io);
    socket.connect(boost::asio::local::stream_protocol::endpoint(path));
    // serve may answer and close before all of an oversized request is written: EPIPE then.
    boost::system::error_code ec;
    boost::asio::write(socket, boost::asio::buffer(bytes), ec);
    std::string answer;
    char chunk[4096];
    while (true) {
        const std::size_t n = socket.read_some(boost::asio::buffer(chunk), ec);
        if (ec) break;
        answer.append(chunk, n);
    }
    return answer;
}

}  // namespace

TEST_CASE("CNI ADD adds the IPs of the pod's annotation, answered by serve from its watch", "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", false, "10.255.53.53"));
    const std::string listen = "127.0.0.1:19651";
    node.lab.config["metrics"] = json::object{{"listen", listen}};
    node.lab.write_config();
    const auto serve = node.start_serve();
    INFO("serve log:\n" << node.lab.log());

    const auto result = node.add("resolver");
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("10.255.53.53") == std::string::npos);  // the result is the main plugin's
    CHECK(node.lo().find("10.255.53.53/32") != std::string::npos);
    CHECK(node.lab.wait_log("from=cache"));
    // Answered from the cache: nobody asked the apiserver for the pod. (Counted by target,
    // not in all: serve's Node watch may still be making its first requests.)
    const auto requests = node.server.requests();
    CHECK(std::none_of(requests.begin(), requests.end(), [](const std::string& target) {
        return target.find("/namespaces/dns/pods/resolver") != std::string::npos;
    }));
    CHECK(wait_scraped(listen, "flock_anycast_pod_lookups_total{result=\"cache\"}", 1));
    CHECK(scraped(listen, "flock_anycast_pod_lookups_total{result=\"apiserver\"}") == 0);

    struct stat socket_file {};
    REQUIRE(::stat(node.socket_path().c_str(), &socket_file) == 0);
    CHECK((socket_file.st_mode & 0777) == 0600);
}

TEST_CASE("serve GETs a pod its watch has not seen, and answers the plugin from the apiserver", "[kube][cni][serve]") {
    KubeNode node;
    const std::string listen = "127.0.0.1:19652";
    node.lab.config["metrics"] = json::object{{"listen", listen}};
    node.lab.write_config();
    const auto serve = node.start_serve();
    INFO("serve log:\n" << node.lab.log());
    // Scheduled elsewhere as far as this node's watch knows (its fieldSelector filters it
    // out): only a GET finds it, as for a pod whose ADDED event is still on its way.
    node.server.put_pod(make_pod("dns", "late", "worker-2", true, "10.255.53.54"));

    const auto result = node.add("late");
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(node.lo().find("10.255.53.54/32") != std::string::npos);
    CHECK(node.lab.wait_log("from=apiserver"));
    CHECK(wait_scraped(listen, "flock_anycast_pod_lookups_total{result=\"apiserver\"}", 1));
    const auto requests = node.server.requests();
    CHECK(std::count_if(requests.begin(), requests.end(), [](const std::string& target) {
              return target.find("/namespaces/dns/pods/late") != std::string::npos;
          }) == 1);
}

TEST_CASE("CNI ADD refuses an annotation IP outside the policy with code 100", "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "rogue", "worker-1", true, "10.99.0.1"));
    const auto serve = node.start_serve();
    const auto result = node.add("rogue");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 100);
    CHECK(node.lo().find("10.99.0.1") == std::string::npos);
}

TEST_CASE("CNI ADD for a pod the apiserver does not know fails with code 102", "[kube][cni][serve]") {
    KubeNode node;
    const auto serve = node.start_serve();
    const auto result = node.add("ghost");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 102);
    CHECK(error_message(result).find("not found") != std::string::npos);
}

TEST_CASE("CNI ADD for a pod re-created under the same name (another uid) fails with code 102", "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    const auto serve = node.start_serve();
    const auto result = node.add("resolver", "uid-of-an-older-pod");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 102);
    CHECK(error_message(result).find("uid") != std::string::npos);
    CHECK(node.lo().find("10.255.53.53") == std::string::npos);
}

TEST_CASE("a pod serve has not seen, with the apiserver down, gets code 11 (try again later)", "[kube][cni][serve]") {
    KubeNode node;
    const auto serve = node.start_serve();
    node.server.put_pod(make_pod("dns", "late", "worker-2", true, "10.255.53.54"));
    node.server.go_away();
    const auto result = node.add("late");
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 11);
    CHECK(node.lo().find("10.255.53.54") == std::string::npos);
}

TEST_CASE("a pod serve has seen starts while the apiserver is down", "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    const auto serve = node.start_serve();
    node.server.go_away();
    const auto result = node.add("resolver");
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(node.lo().find("10.255.53.53/32") != std::string::npos);
}

TEST_CASE("without serve, a pod that may claim anycast IPs gets code 11 at once", "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    const auto started = std::chrono::steady_clock::now();
    const auto result = node.add("resolver");
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(result.exit_code != 0);
    CHECK(error_code(result) == 11);
    CHECK(error_message(result).find("serve.sock") != std::string::npos);
    CHECK(took < std::chrono::seconds(2));  // no socket: refused at once, not after the deadline
    CHECK(node.server.requests().empty());  // the plugin itself never calls the apiserver
}

TEST_CASE("a serve.sock that never answers costs the plugin its 2 s deadline and code 11, never a hang",
          "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    // A listener that accepts (the kernel does, up to its backlog) and never reads.
    std::filesystem::create_directories(node.lab.state_dir());
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::acceptor stuck(
        io, boost::asio::local::stream_protocol::endpoint(node.socket_path()));
    const auto started = std::chrono::steady_clock::now();
    const auto result = node.add("resolver");
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(error_code(result) == 11);
    CHECK(error_message(result).find("within 2000 ms") != std::string::npos);
    CHECK(took >= std::chrono::milliseconds(1900));
    CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("a pod whose namespace may claim nothing starts without serve, and nothing is asked", "[kube][cni][serve]") {
    KubeNode node;
    // dns may claim nothing: no allowedPrefixes, or all of them reserved for web.
    const json::object policy =
        GENERATE(json::object{{"namespaces", json::object{{"web", json::array{"10.255.80.0/24"}}}}},
                 json::object{{"allowedPrefixes", json::array{"10.255.80.0/24"}},
                              {"namespaces", json::object{{"web", json::array{"10.255.80.0/24"}}}}});
    INFO(json::serialize(policy));
    const auto result = node.add("resolver", {}, policy);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto out = json::parse(result.out).as_object();
    CHECK(out.at("ips").as_array().size() == 1);  // prevResult's, passed through
    CHECK(node.lo().find("10.255.") == std::string::npos);
    CHECK(node.server.requests().empty());
}

TEST_CASE("serve answers garbage on serve.sock with an error and keeps answering", "[kube][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    const auto serve = node.start_serve();
    INFO("serve log:\n" << node.lab.log());

    const std::string not_json = ask_raw(node.socket_path(), "{\"namespace\": \n");
    CHECK(not_json.find("\"ok\":false") != std::string::npos);
    CHECK(not_json.find("bad request") != std::string::npos);
    const std::string no_name = ask_raw(node.socket_path(), "{\"namespace\":\"dns\",\"annotation\":\"a\"}\n");
    CHECK(no_name.find("name") != std::string::npos);
    const std::string endless = ask_raw(node.socket_path(), std::string(100 * 1024, 'x'));
    CHECK(endless.find("longer than") != std::string::npos);
    const std::string wrong_key = ask_raw(
        node.socket_path(), "{\"namespace\":\"dns\",\"name\":\"resolver\",\"annotation\":\"example.com/other\"}\n");
    CHECK(wrong_key.find("serve keeps annotation anycast.flock.io/ips") != std::string::npos);

    const auto result = node.add("resolver");
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
}

TEST_CASE("a serve killed with SIGKILL leaves its socket; the next serve replaces it and answers",
          "[kube][cni][serve]") {
    KubeNode node;
    node.server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));
    auto serve = node.start_serve();
    serve->stop(SIGKILL);
    serve.reset();
    REQUIRE(std::filesystem::exists(node.socket_path()));  // nobody removed it
    const auto refused = node.add("resolver");
    CHECK(error_code(refused) == 11);  // connection refused: try again later
    CHECK(error_message(refused).find("Connection refused") != std::string::npos);

    node.server.end_watches();
    serve = node.lab.start_serve();
    INFO("serve log:\n" << node.lab.log());
    REQUIRE(node.lab.wait_log("pod lookups listening", 2));  // the log is appended to
    const auto result = node.add("resolver");
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(node.lo().find("10.255.53.53/32") != std::string::npos);
}
