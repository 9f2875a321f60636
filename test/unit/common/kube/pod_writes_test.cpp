// The pods/status patch and the Event serve sends (issue 18 items 2 and 3), in the shapes the
// apiserver takes. No network: the test apiserver checks the same shapes on the wire.
#include "common/kube/pod_writes.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace anycast::common::kube;
namespace json = boost::json;

TEST_CASE("the readiness-gate patch merges one condition by type and carries the uid precondition", "[unit][kube]") {
    const PodIdentity pod{"dns", "resolver-0", "u-1"};
    const ApiWrite write =
        announced_condition_patch(pod, true, "Announced", "10.255.53.53/32 announced", "2026-12-01T10:00:00Z");
    CHECK(write.method == ApiWrite::Method::patch);
    CHECK(write.target == "/api/v1/namespaces/dns/pods/resolver-0/status");
    CHECK(write.content_type == "application/strategic-merge-patch+json");
    const auto body = json::parse(write.body).as_object();
    CHECK(body.size() == 2);  // metadata.uid and status.conditions, nothing else
    CHECK(body.at("metadata").as_object() == json::object{{"uid", "u-1"}});
    const auto& conditions = body.at("status").at("conditions").as_array();
    REQUIRE(conditions.size() == 1);
    CHECK(conditions[0].at("type") == "anycast.flock.io/announced");
    CHECK(conditions[0].at("status") == "True");
    CHECK(conditions[0].at("reason") == "Announced");
    CHECK(conditions[0].at("lastTransitionTime") == "2026-12-01T10:00:00Z");
    CHECK(json::parse(announced_condition_patch(pod, false, "Drained", "m", "t").body)
              .at("status")
              .at("conditions")
              .at(0)
              .at("status") == "False");
}

TEST_CASE("an event is a core/v1 Event on the pod, named as client-go names them", "[unit][kube]") {
    const PodIdentity pod{"dns", "resolver-0", "u-1"};
    const ApiWrite write = pod_event_post(pod, {"AnycastRefused", "10.9.9.9: not allowed", true}, "worker-1",
                                          "flock-anycast", "2026-12-01T10:00:00Z", 0xabc);
    CHECK(write.method == ApiWrite::Method::post);
    CHECK(write.target == "/api/v1/namespaces/dns/events");
    const auto event = json::parse(write.body).as_object();
    CHECK(event.at("metadata").at("name") == "resolver-0.abc");
    CHECK(event.at("metadata").at("namespace") == "dns");
    CHECK(event.at("involvedObject").as_object() ==
          json::object{
              {"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", "dns"}, {"name", "resolver-0"}, {"uid", "u-1"}});
    CHECK(event.at("type") == "Warning");
    CHECK(event.at("reason") == "AnycastRefused");
    CHECK(event.at("source").at("host") == "worker-1");
    CHECK(event.at("count") == 1);
}
