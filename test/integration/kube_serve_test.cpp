// serve with the `kubernetes` readiness source against the test apiserver, in a private
// namespace (serve's own lab: veth pods, records written directly): the pod's route follows
// its eligibility as the watch reports it.
#include "test/integration/serve_lab.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/test_apiserver.hpp"

#include <catch2/catch.hpp>

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
