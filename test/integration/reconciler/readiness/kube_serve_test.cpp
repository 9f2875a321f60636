// serve with the `kubernetes` readiness source against the test apiserver, in a private
// namespace (serve's own lab: veth pods, records written directly): the pod's route follows
// its eligibility as the watch reports it, its metrics count the watch's restarts, and its
// drain follows the Node object.
#include "test/support/serve_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

using namespace anycast::test;
namespace json = boost::json;

TEST_CASE("serve with the kubernetes source withdraws a route on Ready=false, and on DeletionTimestamp before DELETED",
          "[kube][serve]") {
    PrivateNetns netns;
    TestApiserver server;
    ServeLab lab;
    const ServePod& pod = lab.add_pod(1);
    lab.write_record(pod, {ServeLab::anycast_v4});
    auto resolver = make_pod("dns", pod.name, "worker-1", true, ServeLab::anycast_v4);
    server.put_pod(resolver);
    server.put_pod(make_pod("dns", "other-node", "worker-2", true, ServeLab::anycast_v4));

    lab.config["node"] = "worker-1";
    lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
    lab.config["readiness"] = json::object{{"source", "kubernetes"}};
    lab.write_config();
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << lab.log());

    const auto routed = [] { return !ServeLab::v4_route().empty(); };
    REQUIRE(wait_until(routed));
    CHECK(ServeLab::hops(ServeLab::anycast_v4) == std::vector<std::string>{pod.v4});

    // The readiness probe fails: MODIFIED with Ready=False withdraws the route.
    set_ready(resolver, false);
    server.put_pod(resolver);
    REQUIRE(wait_until([&] { return !routed(); }));

    set_ready(resolver, true);
    server.put_pod(resolver);
    REQUIRE(wait_until(routed));

    // kubectl delete: DeletionTimestamp set (SIGTERM sent) while the pod still exists and is
    // still Ready: the route goes now, not when DELETED comes after the grace period.
    set_deleting(resolver);
    server.put_pod(resolver);
    REQUIRE(wait_until([&] { return !routed(); }));
    CHECK(server.open_watches() == 1);
    server.delete_pod("dns", pod.name);
    CHECK_FALSE(routed());
}

TEST_CASE("serve reaches an apiserver named in /etc/hosts (localhost) as well as by an IP literal", "[kube][serve]") {
    // The name goes through getaddrinfo. In a whole-static build (option mnl_archive_dir, as
    // in the image) that is static glibc's NSS: its built-in `files` source reads /etc/hosts
    // (docs/design-notes.md, "Libraries linked statically"). The other cases use 127.0.0.1.
    PrivateNetns netns;
    TestApiserver server;  // its certificate names DNS:localhost too
    ServeLab lab;
    const ServePod& pod = lab.add_pod(1);
    lab.write_record(pod, {ServeLab::anycast_v4});
    server.put_pod(make_pod("dns", pod.name, "worker-1", true, ServeLab::anycast_v4));

    const std::string kubeconfig = server.write_kubeconfig(lab.dir.file("kubeconfig"));
    std::stringstream text;
    text << std::ifstream(kubeconfig).rdbuf();
    std::string by_name = text.str();
    const std::string ip_url = "https://127.0.0.1:";
    REQUIRE(by_name.find(ip_url) != std::string::npos);
    by_name.replace(by_name.find(ip_url), ip_url.size(), "https://localhost:");
    std::ofstream(kubeconfig, std::ios::trunc) << by_name;

    lab.config["kubeconfig"] = kubeconfig;
    lab.config["readiness"] = json::object{{"source", "kubernetes"}};
    lab.write_config();
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << lab.log());
    CHECK(wait_until([&] { return server.open_watches() == 1; }));
    CHECK(wait_until([] { return !ServeLab::v4_route().empty(); }));
}

TEST_CASE("serve's metrics count the watch's restarts and the relist after 410 Gone", "[kube][serve][metrics]") {
    PrivateNetns netns;
    TestApiserver server;
    ServeLab lab;
    const ServePod& pod = lab.add_pod(1);
    lab.write_record(pod, {ServeLab::anycast_v4});
    server.put_pod(make_pod("dns", pod.name, "worker-1", true, ServeLab::anycast_v4));

    const std::string listen = "127.0.0.1:19642";
    lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
    lab.config["readiness"] = json::object{{"source", "kubernetes"}};
    lab.config["metrics"] = json::object{{"listen", listen}};
    lab.write_config();
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << lab.log());

    REQUIRE(wait_until([] { return !ServeLab::v4_route().empty(); }));
    REQUIRE(wait_until([&] { return server.open_watches() == 1; }));
    CHECK(wait_scraped(listen, "flock_anycast_kube_relists_total", 1));
    CHECK(scraped(listen, "flock_anycast_kube_watch_restarts_total") == 0);

    // The history is compacted past the client's resourceVersion and its watch ends: the
    // resumed watch gets 410 Gone and the client lists again.
    server.change_elsewhere();
    server.compact();
    server.end_watches();
    CHECK(wait_scraped(listen, "flock_anycast_kube_relists_total", 2));
    CHECK(scraped(listen, "flock_anycast_kube_watch_restarts_total") >= 2);
    CHECK(lab.log().find("relisting") != std::string::npos);
    CHECK_FALSE(ServeLab::v4_route().empty());  // the relist changed nothing: the route stays
}

TEST_CASE("serve's drain follows the Node object in its metrics; SIGHUP with new drain.taints re-judges the node",
          "[kube][serve][drain]") {
    PrivateNetns netns;
    TestApiserver server;
    ServeLab lab;
    const ServePod& pod = lab.add_pod(1);
    lab.write_record(pod, {ServeLab::anycast_v4});
    server.put_pod(make_pod("dns", pod.name, "worker-1", true, ServeLab::anycast_v4));
    auto node = make_node("worker-1");
    add_taint(node, "example.com/maint", "NoSchedule");
    server.put_node(node);

    const std::string listen = "127.0.0.1:19643";
    lab.config["node"] = "worker-1";
    lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
    lab.config["readiness"] = json::object{{"source", "kubernetes"}};
    lab.config["metrics"] = json::object{{"listen", listen}};
    lab.config["drain"] = json::object{{"gracefulSeconds", 1}};
    lab.write_config();
    const auto serve = lab.start_serve();
    INFO("serve log:\n" << lab.log());
    const auto reason = [&](const std::string& cause) {
        return scraped(listen, "flock_anycast_drain_reasons{cause=\"" + cause + "\"}");
    };

    REQUIRE(wait_until([] { return !ServeLab::v4_route().empty(); }));
    REQUIRE(wait_until([&] { return server.open_watches("nodes") == 1; }));
    CHECK(wait_scraped(listen, "flock_anycast_drain_state", 0));
    CHECK(reason("taint") == 0);  // tainted, but the taint is not configured
    CHECK(wait_scraped(listen, "flock_anycast_node_watch_synced", 1));
    CHECK(scraped(listen, "flock_anycast_node_watch_failures_total") == 0);

    // The taint configured by SIGHUP: the node already carries it, so it drains now.
    lab.config["drain"] = json::object{{"gracefulSeconds", 1}, {"taints", json::array{"example.com/maint"}}};
    lab.write_config();
    ::kill(serve->pid(), SIGHUP);
    CHECK(wait_scraped(listen, "flock_anycast_drain_reasons{cause=\"taint\"}", 1));
    CHECK(wait_scraped(listen, "flock_anycast_drain_state", 2));
    CHECK(scraped(listen, "flock_anycast_drain_state_since_timestamp_seconds") > 0);
    CHECK_FALSE(ServeLab::v4_route().empty());  // drained from BGP only: the kernel route stays

    // Cordoned, then the taint removed: the cordon holds the drain.
    set_unschedulable(node, true);
    remove_taint(node, "example.com/maint");
    server.put_node(node);
    CHECK(wait_scraped(listen, "flock_anycast_drain_reasons{cause=\"cordon\"}", 1));
    CHECK(reason("taint") == 0);
    CHECK(scraped(listen, "flock_anycast_drain_state") == 2);

    set_unschedulable(node, false);
    server.put_node(node);
    CHECK(wait_scraped(listen, "flock_anycast_drain_state", 0));
    CHECK(reason("cordon") == 0);

    // The apiserver gone: the node watch's failures count, the last known node stays listed.
    server.go_away();
    CHECK(wait_until([&] { return scraped(listen, "flock_anycast_node_watch_failures_total") >= 1; }));
    CHECK(scraped(listen, "flock_anycast_node_watch_synced") == 1);
    CHECK(scraped(listen, "flock_anycast_drain_state") == 0);
    server.come_back();
}
