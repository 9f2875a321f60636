// The test apiserver's write rules (test/support/apiserver_writes.hpp): it must refuse what
// the real apiserver refuses, or the gate tests would pass against a lenient server.
#include "test/support/apiserver_writes.hpp"
#include "test/support/test_apiserver.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace anycast::test;
namespace json = boost::json;

namespace {

json::object gated_pod() {
    auto pod = make_pod("dns", "a", "worker-1", false, "10.255.53.53");
    add_readiness_gate(pod);
    set_containers_ready(pod, true);
    return pod;
}

std::string patch(const std::string& uid, const std::string& status) {
    return R"({"metadata":{"uid":")" + uid +
           R"("},"status":{"conditions":[{"type":"anycast.flock.io/announced","status":")" + status +
           R"(","lastTransitionTime":"2026-12-01T10:00:00Z"}]}})";
}

}  // namespace

TEST_CASE("a strategic merge patch merges our condition by type and keeps the kubelet's", "[unit][kube]") {
    auto pod = gated_pod();
    const auto before = pod.at("status").at("conditions").as_array().size();
    REQUIRE(patch_pod_status(pod, "application/strategic-merge-patch+json", patch("uid-dns-a", "True")).ok());
    CHECK(pod.at("status").at("conditions").as_array().size() == before + 1);
    CHECK(condition_of(pod, "anycast.flock.io/announced") == "True");
    CHECK(condition_of(pod, "ContainersReady") == "True");
    CHECK(condition_of(pod, "Ready") == "False");  // the kubelet's part comes next
    kubelet_sync_ready(pod);
    CHECK(condition_of(pod, "Ready") == "True");
    // A second patch of the same type replaces, not appends.
    REQUIRE(patch_pod_status(pod, "application/strategic-merge-patch+json", patch("uid-dns-a", "False")).ok());
    CHECK(pod.at("status").at("conditions").as_array().size() == before + 1);
    kubelet_sync_ready(pod);
    CHECK(condition_of(pod, "Ready") == "False");
}

TEST_CASE("a JSON merge patch replaces the whole list, as the real apiserver does", "[unit][kube]") {
    auto pod = gated_pod();
    REQUIRE(patch_pod_status(pod, "application/merge-patch+json", patch("uid-dns-a", "True")).ok());
    CHECK(pod.at("status").at("conditions").as_array().size() == 1);  // the kubelet's conditions are gone
}

TEST_CASE("the test apiserver refuses the patches the real one refuses", "[unit][kube]") {
    auto pod = gated_pod();
    const json::object original = pod;
    CHECK(patch_pod_status(pod, "application/json", patch("uid-dns-a", "True")).status == 415);
    CHECK(patch_pod_status(pod, "application/strategic-merge-patch+json", "[1]").status == 400);
    const auto conflict = patch_pod_status(pod, "application/strategic-merge-patch+json", patch("other", "True"));
    CHECK(conflict.status == 409);
    CHECK_THAT(conflict.message, Catch::Matchers::Contains("Precondition failed: UID in precondition"));
    CHECK(patch_pod_status(pod, "application/strategic-merge-patch+json", patch("uid-dns-a", "Yes")).status == 422);
    CHECK(patch_pod_status(pod, "application/strategic-merge-patch+json",
                           R"({"status":{"conditions":[{"status":"True"}]}})")
              .status == 400);  // no merge key
    CHECK(patch_pod_status(pod, "application/strategic-merge-patch+json",
                           R"({"status":{"conditions":[{"type":"bad type!","status":"True"}]}})")
              .status == 422);
    CHECK(pod == original);  // refused patches change nothing
}

TEST_CASE("the test apiserver checks Events like the real one", "[unit][kube]") {
    json::object event;
    const std::string good =
        R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"a.1","namespace":"dns"},"involvedObject":{"kind":"Pod","namespace":"dns","name":"a","uid":"u"},"reason":"AnycastAnnounced","message":"m","type":"Normal"})";
    CHECK(check_event("dns", "application/json", good, event).status == 201);
    CHECK(check_event("other", "application/json", good, event).status == 400);
    std::string warning_typo = good;
    warning_typo.replace(warning_typo.find("Normal"), 6, "Info");
    CHECK(check_event("dns", "application/json", warning_typo, event).status == 422);
}
