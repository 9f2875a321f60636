// serve's pure answers to the plugin's pod lookups (reconciler/serve/pod_lookup.hpp): a hit
// from the watch's cache, a miss that needs a GET, and what the apiserver's pod means.
#include "reconciler/serve/pod_lookup.hpp"

#include <catch2/catch.hpp>

using namespace anycast;
using common::PodLookupAnswer;
using common::PodLookupRequest;
using common::kube::PodCache;
using common::kube::PodInfo;

namespace {

const std::string k_key = "anycast.flock.io/ips";

PodInfo pod(const std::string& name, const std::string& uid, std::optional<std::string> ips) {
    PodInfo info;
    info.namespace_ = "dns";
    info.name = name;
    info.uid = uid;
    info.ready = true;
    if (ips) info.annotations[k_key] = *ips;
    return info;
}

PodLookupRequest request(const std::string& name, const std::string& uid = {}) {
    return {.namespace_ = "dns", .name = name, .uid = uid, .annotation = k_key};
}

}  // namespace

TEST_CASE("a pod in the cache is answered from it, with or without the annotation", "[unit]") {
    PodCache cache;
    cache.upsert(pod("resolver", "u-1", "10.255.53.53"));
    cache.upsert(pod("plain", "u-2", std::nullopt));
    CHECK(reconciler::answer_from_cache(&cache, request("resolver", "u-1"), k_key) ==
          PodLookupAnswer::found("10.255.53.53", "cache"));
    CHECK(reconciler::answer_from_cache(&cache, request("resolver"), k_key) ==
          PodLookupAnswer::found("10.255.53.53", "cache"));  // no uid from the runtime: any
    CHECK(reconciler::answer_from_cache(&cache, request("plain", "u-2"), k_key) ==
          PodLookupAnswer::found(std::nullopt, "cache"));
}

TEST_CASE("a pod not in the cache, or there under another uid, is a miss", "[unit]") {
    PodCache cache;
    cache.upsert(pod("resolver", "u-1", "10.255.53.53"));
    CHECK_FALSE(reconciler::answer_from_cache(&cache, request("late"), k_key));
    CHECK_FALSE(reconciler::answer_from_cache(&cache, request("resolver", "u-2"), k_key));
}

TEST_CASE("a lookup serve cannot answer from a cache is a lasting error", "[unit]") {
    PodCache cache;
    const auto no_watch = reconciler::answer_from_cache(nullptr, request("resolver"), k_key);
    REQUIRE(no_watch);
    CHECK_FALSE(no_watch->ok);
    CHECK_FALSE(no_watch->transient);
    CHECK(no_watch->error.find("readiness.source") != std::string::npos);

    auto other_key = request("resolver");
    other_key.annotation = "example.com/ips";
    const auto mismatch = reconciler::answer_from_cache(&cache, other_key, k_key);
    REQUIRE(mismatch);
    CHECK_FALSE(mismatch->ok);
    CHECK_FALSE(mismatch->transient);
    CHECK(mismatch->error.find("example.com/ips") != std::string::npos);
}

TEST_CASE("the apiserver's pod answers, unless it is another pod of the same name", "[unit]") {
    CHECK(reconciler::answer_from_apiserver(pod("late", "u-9", "10.255.53.54"), request("late", "u-9")) ==
          PodLookupAnswer::found("10.255.53.54", "apiserver"));
    const auto recreated =
        reconciler::answer_from_apiserver(pod("late", "u-10", "10.255.53.54"), request("late", "u-9"));
    CHECK_FALSE(recreated.ok);
    CHECK_FALSE(recreated.transient);
    CHECK(recreated.error.find("u-10") != std::string::npos);
}
