// A node drain (issue 18 item 1) seen from the router: serve beside the node's generated BIRD
// (test/support/generated_bird_lab.hpp) with one record; `flock-anycast drain` re-announces
// the prefix with GRACEFUL_SHUTDOWN (65535:0), withdraws it from BGP drain.gracefulSeconds
// later while the kernel route stays, and `undrain` announces it again; `serve
// --drain-on-exit` runs the same sequence on SIGTERM before it exits; and with the kubernetes
// readiness source, cordoning the Node object (test apiserver) drains the same way.
#include "common/store/record_store.hpp"
#include "test/support/background_process.hpp"
#include "test/support/generated_bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string k_prefix = "10.255.53.53/32";

constexpr bool k_kubernetes = true;
constexpr bool k_cordoned = true;

// serve in the node, with the lab's BIRD (its include, socket and bird.conf), one record for
// a pod at 10.1.1.2 behind n-p, readiness `always`, and a 2 s graceful phase. With
// `kubernetes`: readiness from a test apiserver listening in the node's namespace (where
// serve reaches its 127.0.0.1), holding the Ready pod and the Node object worker-1, and
// drain.taints ["example.com/maint"].
struct DrainLab {
    GeneratedLab lab{{}};
    std::string config_path = lab.dir.file("serve.json");
    std::unique_ptr<TestApiserver> apiserver;
    json::object node = make_node("worker-1");
    std::vector<std::string> serve_argv;
    std::unique_ptr<BackgroundProcess> serve;

    // Waits for the router to have the prefix, unless the Node is cordoned from the start.
    explicit DrainLab(const std::vector<std::string>& serve_flags = {}, bool kubernetes = false,
                      bool cordoned = false) {
        json::object config = lab.config();
        config["stateDir"] = lab.dir.file("state");
        config["readiness"] = json::object{{"source", "always"}};
        if (kubernetes) {
            {
                EnteredNetns in_node(lab.node.path());
                apiserver = std::make_unique<TestApiserver>();
            }
            set_unschedulable(node, cordoned);
            apiserver->put_node(node);
            apiserver->put_pod(make_pod("dns", "resolver-0", "worker-1", true, "10.255.53.53"));
            config["node"] = "worker-1";
            config["kubeconfig"] = apiserver->write_kubeconfig(lab.dir.file("kubeconfig"));
            config["readiness"] = json::object{{"source", "kubernetes"}};
        }
        config["metrics"] = json::object{{"listen", ""}};
        config["policy"] = json::object{{"allowedPrefixes", json::array{"10.255.0.0/16"}}};
        config["drain"] =
            json::object{{"gracefulSeconds", 2}, {"localPreference", 0}, {"taints", json::array{"example.com/maint"}}};
        auto& bird = config["bird"].as_object();
        bird["socket"] = lab.node_bird->socket();
        bird["config"] = lab.node_bird->config_path();
        std::ofstream(config_path) << json::serialize(config);
        common::RecordStore(lab.dir.file("state"))
            .put(RecordBuilder("k8s", "c1")
                     .netns(lab.node.path())
                     .pod("dns", "resolver-0")
                     .ip("10.255.53.53")
                     .nexthop("10.1.1.2", "n-p")
                     .build());
        serve_argv = {"ip", "netns", "exec", lab.node.name(), flock_binary(), "serve", "--config", config_path};
        serve_argv.insert(serve_argv.end(), serve_flags.begin(), serve_flags.end());
        start_serve();
        if (!cordoned && !wait_until([&] { return lab.router_routes() == 1; })) {
            throw std::runtime_error("the router never got the prefix:\n" + log() + lab.logs());
        }
    }

    void start_serve() { serve = std::make_unique<BackgroundProcess>(serve_argv, lab.dir.file("serve.log")); }

    std::string command(const std::string& name) const {
        const auto result = run_process({flock_binary(), name, "--config", config_path});
        if (result.exit_code != 0) throw std::runtime_error(name + " failed: " + result.err);
        return result.out;
    }
    std::string router_route() const { return lab.router_bird->birdc("show route " + k_prefix + " all"); }
    bool graceful_shutdown() const { return router_route().find("(65535,0)") != std::string::npos; }
    bool kernel_route() const {
        return run_process({"ip", "netns", "exec", lab.node.name(), "ip", "route", "show", "table", "241", k_prefix})
                   .out.find("via 10.1.1.2") != std::string::npos;
    }
    std::string log() const { return read_text_file(lab.dir.file("serve.log")); }
};

}  // namespace

TEST_CASE(
    "drain announces with GRACEFUL_SHUTDOWN, withdraws from BGP later and keeps the kernel route; undrain "
    "announces again",
    "[bird][netns][serve][drain]") {
    DrainLab d;
    INFO("serve log:\n" << d.log());
    CHECK_FALSE(d.graceful_shutdown());
    CHECK(d.command("drain-status").starts_with("announcing\n"));

    CHECK(d.command("drain").starts_with("draining (flock-anycast drain)\n"));
    CHECK(wait_until([&] { return d.graceful_shutdown(); }, 5s));
    CHECK(d.lab.router_routes() == 1);  // still announced, now the least preferred

    CHECK(wait_until([&] { return d.lab.router_routes() == 0; }, 10s));
    CHECK(d.command("drain-status").starts_with("drained (flock-anycast drain)\n"));
    CHECK(d.kernel_route());     // flows still arriving reach the pod
    CHECK(d.lab.established());  // a withdrawal, not a session reset

    CHECK(d.command("undrain").starts_with("announcing (flock-anycast undrain)\n"));
    CHECK(wait_until([&] { return d.lab.router_routes() == 1; }, 5s));
    CHECK(wait_until([&] { return !d.graceful_shutdown(); }, 5s));
    CHECK(d.log().find("drain: prefixes withdrawn from BGP; kernel routes stay") != std::string::npos);
}

TEST_CASE("serve --drain-on-exit drains on SIGTERM before it exits, and the kernel route stays",
          "[bird][netns][serve][drain]") {
    DrainLab d({"--drain-on-exit"});
    INFO("serve log:\n" << d.log());
    ::kill(d.serve->pid(), SIGTERM);
    CHECK(wait_until([&] { return d.graceful_shutdown(); }, 5s));
    CHECK(d.serve->alive());  // the graceful phase first
    CHECK(wait_until([&] { return !d.serve->alive(); }, 10s));
    CHECK(d.lab.router_routes() == 0);
    CHECK(d.kernel_route());
}

TEST_CASE("a cordoned Node drains serve like `drain`; undrain keeps a cordoned node drained; uncordon announces again",
          "[bird][netns][serve][drain][kube]") {
    DrainLab d({}, k_kubernetes);
    INFO("serve log:\n" << d.log());
    REQUIRE(wait_until([&] { return d.apiserver->open_watches("nodes") == 1; }));
    CHECK_FALSE(d.graceful_shutdown());
    using clock = std::chrono::steady_clock;
    const auto ms = [](clock::duration span) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(span).count();
    };

    // kubectl cordon: the router sees GRACEFUL_SHUTDOWN, then the withdrawal gracefulSeconds later.
    set_unschedulable(d.node, true);
    const auto cordoned = clock::now();
    d.apiserver->put_node(d.node);
    REQUIRE(wait_until([&] { return d.graceful_shutdown(); }, 5s, 5ms));
    const auto graceful = clock::now();
    CHECK(d.lab.router_routes() == 1);
    REQUIRE(wait_until([&] { return d.lab.router_routes() == 0; }, 10s, 5ms));
    const auto withdrawn = clock::now();
    CHECK(d.kernel_route());
    CHECK(d.lab.established());
    const std::string status = d.command("drain-status");
    CHECK(status.starts_with("drained (node cordoned (spec.unschedulable))\n"));
    CHECK(status.find("  reason cordon: node cordoned (spec.unschedulable) (since ") != std::string::npos);

    // A manual drain on top, then undrain: the cordon still holds, and the answer says so.
    CHECK(d.command("drain").starts_with("drained (node cordoned (spec.unschedulable); flock-anycast drain)\n"));
    const std::string undrain = d.command("undrain");
    CHECK(undrain.starts_with("drained (node cordoned (spec.unschedulable))\n"));
    CHECK(undrain.find("note: the drain stays: node cordoned (spec.unschedulable)\n") != std::string::npos);
    std::this_thread::sleep_for(1s);
    CHECK(d.lab.router_routes() == 0);

    // kubectl uncordon: announced again, without GRACEFUL_SHUTDOWN.
    set_unschedulable(d.node, false);
    const auto uncordoned = clock::now();
    d.apiserver->put_node(d.node);
    REQUIRE(wait_until([&] { return d.lab.router_routes() == 1; }, 5s, 5ms));
    const auto announced = clock::now();
    CHECK(wait_until([&] { return !d.graceful_shutdown(); }, 5s));
    CHECK(d.command("drain-status").starts_with("announcing (node: no drain reason left)\n"));

    // A configured taint drains too; removed during the graceful phase, the drain ends there.
    add_taint(d.node, "example.com/maint", "NoSchedule");
    d.apiserver->put_node(d.node);
    CHECK(wait_until([&] { return d.graceful_shutdown(); }, 5s));
    CHECK(d.command("drain-status").starts_with("draining (taint example.com/maint:NoSchedule)\n"));
    remove_taint(d.node, "example.com/maint");
    d.apiserver->put_node(d.node);
    CHECK(wait_until([&] { return !d.graceful_shutdown(); }, 5s));
    CHECK(d.lab.router_routes() == 1);

    // The lab's figures for docs/operations.md ("Draining a node").
    fmt::print(
        "node drain timeline: cordon -> GRACEFUL_SHUTDOWN at the router {} ms, -> withdrawn at the router {} ms "
        "(gracefulSeconds 2); uncordon -> announced at the router {} ms\n",
        ms(graceful - cordoned), ms(withdrawn - cordoned), ms(announced - uncordoned));
}

TEST_CASE("serve started on a cordoned Node, with nothing announced before, never announces the prefix",
          "[bird][netns][serve][drain][kube]") {
    // serve holds its first publication back until the Node is listed; BIRD's include (none
    // yet) lists nothing, so the drain needs no graceful phase and begins withdrawn.
    DrainLab d({}, k_kubernetes, k_cordoned);
    INFO("serve log:\n" << d.log());
    REQUIRE(wait_until([&] { return d.log().find("withdrawn at once") != std::string::npos; }));
    REQUIRE(wait_until([&] { return d.kernel_route(); }));
    // BIRD has taken in the (empty) include by the time drain-status answers drained.
    CHECK(wait_until([&] { return d.command("drain-status").find("drained") != std::string::npos; }));
    std::this_thread::sleep_for(500ms);  // BIRD's export to the router, had there been one
    CHECK(d.lab.router_routes() == 0);
    CHECK(d.log().find("GRACEFUL_SHUTDOWN") == std::string::npos);
}

TEST_CASE("serve restarted on a node cordoned while it was down announces only with GRACEFUL_SHUTDOWN, then withdraws",
          "[bird][netns][serve][drain][kube]") {
    DrainLab d({}, k_kubernetes);
    INFO("serve log:\n" << d.log());
    // Killed while announcing: BIRD keeps the include that lists the prefix.
    d.serve->stop(SIGKILL);
    set_unschedulable(d.node, true);
    d.apiserver->put_node(d.node);
    d.start_serve();
    // The router keeps the prefix throughout; the new serve re-announces it with the
    // community, then withdraws it after the graceful phase.
    CHECK(wait_until([&] { return d.graceful_shutdown(); }, 10s));
    CHECK(wait_until([&] { return d.lab.router_routes() == 0; }, 10s));
    CHECK(d.kernel_route());
}
