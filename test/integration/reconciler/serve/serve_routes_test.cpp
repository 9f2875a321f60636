// serve end to end in a private namespace: veth "pods", records written directly, readiness
// from a file; the kernel is polled with a bounded wait, never a timed assertion.
#include "test/support/serve_lab.hpp"
#include "test/support/notify_socket.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace anycast;
using namespace anycast::test;

using Hops = std::vector<std::string>;

TEST_CASE("serve installs the route once the pod is marked ready in the readiness file", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto& a = lab.add_pod(1);
    lab.write_record(a);
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_log("msg=pass"));
    CHECK(lab.routes().empty());

    lab.set_pods({ServeLab::ready(a)});
    REQUIRE(lab.wait_routed_via({&a}));
    CHECK(ServeLab::v4_route().find("proto 241") != std::string::npos);
    // The rule that makes the kernel consult our table, for both families.
    CHECK(sh("ip -4 rule show priority 1000").find("lookup 241") != std::string::npos);
    CHECK(sh("ip -6 rule show priority 1000").find("lookup 241") != std::string::npos);
}

TEST_CASE(
    "serve keeps one multipath route for ready pods, drops a deleting pod's hop, and removes the route when none is "
    "left",
    "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];

    lab.set_pods({ServeLab::ready(a), ServeLab::deleting(b)});
    REQUIRE(lab.wait_routed_via({&a}));

    lab.set_pods({ServeLab::not_ready(a), ServeLab::deleting(b)});
    REQUIRE(wait_until([&] { return lab.routes().empty(); }));
}

TEST_CASE("serve removes the route when the pod's record is removed", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4, b.v4}; }));

    lab.remove_record(a);
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{b.v4}; }));
    lab.remove_record(b);
    REQUIRE(wait_until([&] { return lab.routes().empty(); }));
}

TEST_CASE("serve repairs an external delete of its route through the netlink monitor, not the resync tick",
          "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab(3600);  // the periodic resync cannot be what repairs it
    lab.add_ready_pods(1);
    const auto& a = lab.pods[0];
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4}; }));

    sh(std::string("ip route del ") + ServeLab::anycast_v4 + "/32 table 241");
    REQUIRE(lab.wait_log("reasons=route-deleted"));
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4}; }));

    sh(std::string("ip -6 route del ") + ServeLab::anycast_v6 + "/128 table 241");
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v6) == Hops{a.v6}; }));
}

TEST_CASE("serve puts the route back when a pod's veth is deleted and re-created", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab(3600);
    lab.add_ready_pods(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4, b.v4}; }));

    sh("ip link del " + a.host_end);
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{b.v4}; }));
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v6) == Hops{b.v6}; }));

    lab.make_link(a);
    REQUIRE(lab.wait_routed_via({&a, &b}));
}

TEST_CASE("serve removes a record whose pod network namespace is gone, and its hop", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab(1);  // a resync every second
    auto serve = lab.start_serving(2);
    auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    const auto record_of = [&](const ServePod& pod) {
        return lab.state_dir() + "/records/k8s_c-" + pod.name + "_eth0.json";
    };
    // The runtime lost the sandbox without a DEL: the netns (and with it the veth) is gone.
    a.ns->remove();
    INFO(lab.log());
    REQUIRE(wait_until([&] { return !std::filesystem::exists(record_of(a)); }));
    CHECK(lab.wait_log("removed a record whose network namespace is gone"));
    CHECK(lab.wait_routed_via({&b}));
    CHECK(std::filesystem::exists(record_of(b)));
}

TEST_CASE("serve leaves routes of other protocols on the same prefixes untouched", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto& a = lab.add_pod(1);
    auto& b = lab.add_pod(2);
    // Someone else's routes: the same prefix in main and, with another metric, in our table;
    // and another prefix of another protocol in our table.
    sh("ip route add 10.255.53.53/32 via " + b.v4 + " dev " + b.host_end + " proto static");
    sh("ip route add 10.255.53.53/32 via " + b.v4 + " dev " + b.host_end + " table 241 proto static metric 50");
    sh("ip route add 10.255.60.1/32 via " + b.v4 + " dev " + b.host_end + " table 241 proto static");
    const std::string main_before = sh("ip route show proto static");
    const std::string ours_before = ServeLab::show("ip route show table 241 proto static");

    lab.write_record(a);
    lab.set_pods({ServeLab::ready(a)});
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(wait_until(
        [&] { return ServeLab::show("ip route show table 241 proto 241").find(a.v4) != std::string::npos; }));
    lab.set_pods({ServeLab::not_ready(a)});
    REQUIRE(wait_until([&] { return ServeLab::show("ip route show table 241 proto 241").empty(); }));

    CHECK(sh("ip route show proto static") == main_before);
    CHECK(ServeLab::show("ip route show table 241 proto static") == ours_before);
}

TEST_CASE("serve restarted adopts correct routes without delete or add, and removes stale ones", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.start_serving(2);  // stopped (SIGTERM) at once
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    // SIGTERM left the routes; a stale route of ours appears while serve is down.
    REQUIRE(ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4, b.v4});
    sh("ip route add 10.255.99.99/32 via " + a.v4 + " dev " + a.host_end + " table 241 proto 241");

    RouteEventCounter events;
    auto second = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_log("msg=pass", 2));
    REQUIRE(wait_until([&] { return ServeLab::show("ip route show table 241 10.255.99.99").empty(); }));
    events.drain();
    INFO("route events: " << events.seen.size());
    CHECK(events.added == 0);
    CHECK(events.deleted == 1);
    CHECK(events.seen == std::vector<std::string>{"deleted 10.255.99.99/32"});
    CHECK(ServeLab::routed_via({&a, &b}));
}

TEST_CASE("SIGTERM leaves serve's routes in place; --withdraw-on-exit removes them", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(1);
    const auto& a = lab.pods[0];
    const auto installed = [&] { return ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4}; };

    SECTION("plain SIGTERM") {
        auto serve = lab.start_serve();
        INFO(lab.log());
        REQUIRE(wait_until(installed));
        serve->stop(SIGTERM);
        CHECK(installed());
        CHECK(ServeLab::hops(ServeLab::anycast_v6) == Hops{a.v6});
    }
    SECTION("--withdraw-on-exit") {
        auto serve = lab.start_serve({"--withdraw-on-exit"});
        INFO(lab.log());
        REQUIRE(wait_until(installed));
        serve->stop(SIGTERM);
        CHECK(lab.routes().empty());
        CHECK(lab.log().find("routes withdrawn on exit") != std::string::npos);
    }
}

TEST_CASE("a second serve on the node refuses to start, naming the first one's pid; --dry-run may run beside it",
          "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto first = lab.start_serving(1);
    const std::string expected = fmt::format(
        "another flock-anycast serve (pid {}) holds {}/serve.lock: one serve per node", first->pid(), lab.state_dir());
    const auto second = run_process({flock_binary(), "serve", "--config", lab.config_path()});
    INFO(second.err);
    CHECK(second.exit_code == 1);
    CHECK(second.err.find(expected) != std::string::npos);
    CHECK(ServeLab::routed_via({&lab.pods[0]}));  // the first one's routes are untouched

    ProcessOptions dry_run_options;
    dry_run_options.timeout_seconds = 2;  // it would run on: killed then
    const auto dry_run =
        run_process({flock_binary(), "serve", "--dry-run", "--config", lab.config_path()}, dry_run_options);
    CHECK(dry_run.err.find("one serve per node") == std::string::npos);
    CHECK(dry_run.err.find("serve starting") != std::string::npos);

    // The lock goes with its holder, however it ends.
    first->stop(SIGKILL);
    auto next = lab.start_serve();
    CHECK(lab.wait_log("serve starting"));
}

TEST_CASE("serve follows a records directory that is removed or replaced while it runs", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(2);
    const auto& a = lab.pods[0];
    const auto& b = lab.pods[1];
    const std::string records = lab.state_dir() + "/records";

    SECTION("rm -rf") { sh("rm -rf " + records); }
    SECTION("mv + mkdir") {
        // Onto whatever is at the path by then: serve may already have made records/ again.
        sh("mkdir -m 0700 " + records + ".new && mv " + records + " " + records + ".old && mv -T " + records + ".new " +
           records);
    }

    // Its records are gone from where serve reads them: their routes go, and serve says why.
    if (!wait_until([&] { return ServeLab::routes().empty(); })) FAIL("routes left:\n" << lab.log());
    if (!lab.wait_log("records directory removed or replaced")) FAIL("not noticed:\n" << lab.log());
    // A record written now, into the new directory, is seen.
    lab.write_record(b);
    CHECK(lab.wait_routed_via({&b}));
    CHECK_FALSE(ServeLab::routed_via({&a, &b}));
    INFO(lab.log());
}

TEST_CASE("serve puts back its ip rules when they are deleted by hand or by cleanup while it runs", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(1);
    const auto& a = lab.pods[0];
    const auto rules_back = [] {
        return sh("ip -4 rule show priority 1000").find("lookup 241") != std::string::npos &&
               sh("ip -6 rule show priority 1000").find("lookup 241") != std::string::npos;
    };
    REQUIRE(rules_back());

    sh("ip -4 rule del priority 1000 lookup 241");
    sh("ip -6 rule del priority 1000 lookup 241");
    if (!wait_until(rules_back)) FAIL("rules not put back:\n" << lab.log());
    CHECK(lab.wait_log("our ip rule was deleted; adding it again"));

    // cleanup while serve runs: routes and rules both come back.
    const auto cleanup = run_process({flock_binary(), "cleanup", "--config", lab.config_path()});
    CHECK(cleanup.exit_code == 0);
    if (!wait_until(rules_back)) FAIL("rules not put back after cleanup:\n" << lab.log());
    CHECK(lab.wait_routed_via({&a}));
}

TEST_CASE("cleanup removes every route of ours and the rules, and nothing else", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.start_serving(1);  // stopped (SIGTERM) at once: its routes stay
    const auto& a = lab.pods[0];
    sh("ip route add 10.255.60.1/32 via " + a.v4 + " dev " + a.host_end + " table 241 proto static");
    const auto result = run_process({flock_binary(), "cleanup", "--config", lab.config_path()});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(ServeLab::show("ip route show table 241 proto 241").empty());
    CHECK(ServeLab::show("ip -6 route show table 241 proto 241").empty());
    CHECK(ServeLab::show("ip route show table 241 proto static").find("10.255.60.1") != std::string::npos);
    CHECK(sh("ip -4 rule show priority 1000").empty());
    CHECK(sh("ip -6 rule show priority 1000").empty());
}

TEST_CASE("serve --dry-run logs what it would change and writes nothing", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(1);
    auto serve = lab.start_serve({"--dry-run"});
    INFO(lab.log());
    REQUIRE(lab.wait_log("dry run: would change route"));
    REQUIRE(lab.wait_log("msg=pass"));
    CHECK(lab.routes().empty());
    CHECK(sh("ip -4 rule show priority 1000").empty());
}

TEST_CASE("a malformed readiness file keeps the last good pod states and is logged once", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(1);
    const auto& a = lab.pods[0];

    // The same truncated file twice: one warning, and the last good state (ready) stays.
    sh("printf '[{\"namespace\": ' > " + lab.dir.file("pods.json"));
    REQUIRE(lab.wait_log("readiness file unusable"));
    sh("printf '[{\"namespace\": ' > " + lab.dir.file("pods.json"));
    lab.set_pods({ServeLab::ready(a)});
    REQUIRE(lab.wait_log("readiness file usable again"));
    const std::string log = lab.log();
    CHECK(log.find("readiness file unusable") == log.rfind("readiness file unusable"));
    CHECK(ServeLab::hops(ServeLab::anycast_v4) == Hops{a.v4});

    lab.set_pods({ServeLab::not_ready(a)});
    REQUIRE(wait_until([&] { return lab.routes().empty(); }));
}

TEST_CASE("SIGHUP reloads the config: a policy that no longer allows the IP withdraws its route", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(1);
    const auto& a = lab.pods[0];

    lab.config["policy"] = boost::json::object{{"allowedPrefixes", boost::json::array{"fd00:255::/48"}}};
    lab.write_config();
    ::kill(serve->pid(), SIGHUP);
    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v4).empty(); }));
    CHECK(ServeLab::hops(ServeLab::anycast_v6) == Hops{a.v6});
    CHECK(lab.log().find("outside policy.allowedPrefixes") != std::string::npos);
}

TEST_CASE("SIGHUP before serve's loop runs is applied once it does, never fatal", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(1);
    lab.config["policy"] = boost::json::object{{"allowedPrefixes", boost::json::array{"fd00:255::/48"}}};
    lab.write_config();
    // serve's config is a FIFO at first: serve stops in its open(2), after its main began and
    // before its loop handles signals, for as long as the test likes. SIGHUP's default action
    // would end it there.
    const std::string config = lab.config_path();
    fs::rename(config, config + ".real");
    REQUIRE(::mkfifo(config.c_str(), 0600) == 0);
    auto serve = lab.start_serve();
    const auto in_open = [pid = serve->pid()] {
        std::ifstream wchan("/proc/" + std::to_string(pid) + "/wchan");
        std::string where;
        std::getline(wchan, where);
        return where == "wait_for_partner";  // the kernel's wait in a FIFO's open
    };
    REQUIRE(wait_until(in_open, std::chrono::seconds(5), std::chrono::milliseconds(1)));
    for (int i = 0; i < 3; ++i) ::kill(serve->pid(), SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

    // Hand serve its config through the FIFO, the regular file taking its name first so the
    // reload reads that.
    const int writer = ::open(config.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    INFO("serve log:\n" << lab.log());
    REQUIRE(writer >= 0);  // ENXIO: serve died of the SIGHUP
    fs::rename(config + ".real", config);
    const std::string text = boost::json::serialize(lab.config);
    CHECK(::write(writer, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(writer);

    REQUIRE(wait_until([&] { return ServeLab::hops(ServeLab::anycast_v6) == Hops{lab.pods[0].v6}; }));
    CHECK(ServeLab::hops(ServeLab::anycast_v4).empty());
    CHECK(lab.wait_log("SIGHUP: applying the new config"));
    CHECK(serve->alive());
}

TEST_CASE("SIGHUP with another table and rule priority moves the routes and the rules", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(1);
    const auto& a = lab.pods[0];

    lab.config["routes"] = boost::json::object{{"protocol", 241}, {"table", 242}, {"rulePriority", 1001}};
    lab.write_config();
    ::kill(serve->pid(), SIGHUP);
    const auto in_242 = [](const char* family) {
        return sh(std::string("ip ") + family + " route show table 242 proto 241 2>/dev/null || true");
    };
    // "10.255.53.53 nhid N via 10.0.0.11 ..." (resilient mode; multipath has no nhid).
    const auto routed = [](const std::string& routes, const std::string& destination, const std::string& via) {
        return routes.rfind(destination + " ", 0) == 0 && routes.find(" via " + via + " ") != std::string::npos;
    };
    REQUIRE(wait_until([&] {
        return routed(in_242("-4"), ServeLab::anycast_v4, a.v4) && routed(in_242("-6"), ServeLab::anycast_v6, a.v6);
    }));
    // Nothing left behind in the old table, and the rules point at the new one.
    CHECK(ServeLab::routes().empty());
    CHECK(sh("ip -4 rule show priority 1000").empty());
    CHECK(sh("ip -6 rule show priority 1000").empty());
    CHECK(sh("ip -4 rule show priority 1001").find("lookup 242") != std::string::npos);
    CHECK(sh("ip -6 rule show priority 1001").find("lookup 242") != std::string::npos);

    // The pod going away still withdraws from the new table: serve follows it there.
    lab.set_pods({ServeLab::not_ready(a)});
    REQUIRE(wait_until([&] { return in_242("-4").empty() && in_242("-6").empty(); }));
}

TEST_CASE("serve tells systemd it is ready once its routes are in place, each change's status, and that it stops",
          "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(1);
    const auto& a = lab.pods[0];
    // systemd names a path or an abstract socket ("@...").
    const std::string address = GENERATE(as<std::string>{}, "notify.sock", "@flock-test-notify");
    NotifySocket systemd(address.front() == '@' ? address + "-" + std::to_string(::getpid()) : lab.dir.file(address));
    auto serve = lab.start_serve();
    INFO(lab.log());

    const auto ready = systemd.receive();
    REQUIRE(ready);
    CHECK(*ready == "READY=1\nSTATUS=2 routes installed for 1 eligible of 1 records");
    CHECK(ServeLab::routed_via({&a}));  // already there when READY=1 arrives

    lab.set_pods({ServeLab::not_ready(a)});
    CHECK(systemd.receive() == "STATUS=0 routes installed for 0 eligible of 1 records");
    CHECK(lab.routes().empty());

    serve->stop(SIGTERM);
    CHECK(systemd.receive() == "STOPPING=1");
}

TEST_CASE("serve goes on when systemd's notification socket is gone, and says so once", "[netns][serve]") {
    PrivateNetns netns;
    ServeLab lab;
    lab.add_ready_pods(1);
    const auto& a = lab.pods[0];
    struct ScopedNotifySocket {
        explicit ScopedNotifySocket(const std::string& path) { ::setenv("NOTIFY_SOCKET", path.c_str(), 1); }
        ~ScopedNotifySocket() { ::unsetenv("NOTIFY_SOCKET"); }
    } env(lab.dir.file("gone.sock"));
    auto serve = lab.start_serve();
    INFO(lab.log());
    REQUIRE(lab.wait_routed_via({&a}));  // READY=1 failed
    lab.set_pods({ServeLab::not_ready(a)});
    REQUIRE(wait_until([] { return ServeLab::routes().empty(); }));  // STATUS= failed
    serve->stop(SIGTERM);                                            // STOPPING=1 failed
    const std::string log = lab.log();
    const std::string failed = "msg=\"systemd notification failed\"";
    std::size_t failures = 0;
    for (auto at = log.find(failed); at != std::string::npos; at = log.find(failed, at + 1)) ++failures;
    CHECK(failures == 1);
    CHECK(log.find("msg=\"serve stopping\"") != std::string::npos);
}
