// What serve copies into its metrics besides a pass's figures: the BIRD publisher's and the
// readiness source's own counts, which must stay monotonic when SIGHUP replaces either.
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/metrics/metrics_scrape.hpp"
#include "reconciler/metrics/serve_metrics.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace anycast::reconciler;

namespace {

struct FakePublisher : RoutePublisher {
    void publish(const std::vector<anycast::common::Prefix>&) override {}
    std::optional<ReloadCounts> reload_counts() const override { return counts; }
    ReloadCounts counts;
};

struct FakeWatch : ReadinessSource {
    void start(ChangedHandler) override {}
    void stop() override {}
    const ReadinessSnapshot& snapshot() const override { return snapshot_; }
    bool synced() const override { return true; }
    std::string_view name() const override { return "fake"; }
    std::optional<WatchCounts> watch_counts() const override { return counts; }
    WatchCounts counts;
    ReadinessSnapshot snapshot_;
};

// A publisher and a source that count nothing (BIRD disabled, file readiness).
struct SilentPublisher : RoutePublisher {
    void publish(const std::vector<anycast::common::Prefix>&) override {}
};

// {BIRD reloads ok, failed, watch restarts, relists} as the counters have them.
std::vector<double> counted(const Metrics& m) {
    return {m.bird_reloads_success.value(), m.bird_reloads_failure.value(), m.kube_watch_restarts.value(),
            m.kube_relists.value()};
}
using Counted = std::vector<double>;

}  // namespace

TEST_CASE("source counts reach the counters once each, as they grow", "[unit][metrics]") {
    Metrics metrics;
    SourceCountsFeed feed(metrics);
    FakePublisher publisher;
    FakeWatch watch;

    feed.observe(&publisher, &watch);
    CHECK(counted(metrics) == Counted{0, 0, 0, 0});

    publisher.counts = {3, 1};
    watch.counts = {2, 1};
    feed.observe(&publisher, &watch);
    feed.observe(&publisher, &watch);  // nothing new: nothing added
    CHECK(counted(metrics) == Counted{3, 1, 2, 1});

    publisher.counts.succeeded = 5;
    watch.counts.relists = 2;
    feed.observe(&publisher, &watch);
    CHECK(counted(metrics) == Counted{5, 1, 2, 2});

    CHECK(metrics.bird_include_write_failures.value() == 0);
    publisher.counts.include_write_failures = 3;
    feed.observe(&publisher, &watch);
    feed.observe(&publisher, &watch);
    CHECK(metrics.bird_include_write_failures.value() == 3);
}

TEST_CASE("a replaced publisher or source adds its last counts, and its successor counts on from there",
          "[unit][metrics]") {
    Metrics metrics;
    SourceCountsFeed feed(metrics);
    auto old_publisher = std::make_unique<FakePublisher>();
    auto old_watch = std::make_unique<FakeWatch>();
    old_publisher->counts = {2, 0};
    old_watch->counts = {1, 1};
    feed.observe(old_publisher.get(), old_watch.get());

    // Reloads and a relist after the last scrape, then SIGHUP replaces both.
    old_publisher->counts = {4, 1};
    old_watch->counts = {3, 2};
    feed.retire(*old_publisher);
    feed.retire(*old_watch);
    old_publisher.reset();
    old_watch.reset();
    CHECK(counted(metrics) == Counted{4, 1, 3, 2});

    FakePublisher next_publisher;  // counts from zero
    FakeWatch next_watch;
    next_publisher.counts = {1, 0};
    next_watch.counts = {0, 1};
    feed.observe(&next_publisher, &next_watch);
    CHECK(counted(metrics) == Counted{5, 1, 3, 3});
}

TEST_CASE("a source replaced without retire never makes a counter go down", "[unit][metrics]") {
    Metrics metrics;
    SourceCountsFeed feed(metrics);
    FakePublisher first;
    first.counts = {5, 2};
    feed.observe(&first, nullptr);
    FakePublisher second;
    second.counts = {1, 0};
    feed.observe(&second, nullptr);
    CHECK(counted(metrics) == Counted{6, 2, 0, 0});
}

TEST_CASE("publishers and sources that count nothing leave the counters at zero", "[unit][metrics]") {
    Metrics metrics;
    SourceCountsFeed feed(metrics);
    SilentPublisher publisher;
    feed.observe(&publisher, nullptr);
    feed.observe(nullptr, nullptr);
    feed.retire(publisher);
    CHECK(counted(metrics) == Counted{0, 0, 0, 0});
}

TEST_CASE(
    "per policy prefix: routes, hops and announced routes, each route counted once, for the most specific "
    "prefix",
    "[unit][metrics]") {
    using anycast::common::IpAddress;
    using anycast::common::Prefix;
    Metrics metrics;
    PolicyPrefixFeed feed(metrics);
    anycast::common::Policy policy;
    policy.allowed_prefixes = {*Prefix::parse("10.255.0.0/16"), *Prefix::parse("fd00:255::/48")};
    policy.namespaces["dns"] = {*Prefix::parse("10.255.53.0/24")};
    const auto route = [](const char* destination, int hops) {
        anycast::common::netlink::Route r{*Prefix::parse(destination), {}, 241, 241};
        for (int i = 0; i < hops; ++i) r.hops.push_back({*IpAddress::parse("10.0.0.1"), 10 + i});
        return r;
    };
    const std::vector<anycast::common::netlink::Route> installed = {
        route("10.255.53.53/32", 3), route("10.255.53.54/32", 1), route("10.255.9.9/32", 2)};
    const auto value = [&](const char* name, const std::string& prefix) {
        return parse_exposition(metrics.registry.render()).at(std::string(name) + "{prefix=\"" + prefix + "\"}");
    };
    feed.observe(policy, installed, true);
    CHECK(value("flock_anycast_prefix_routes", "10.255.53.0/24") == 2);
    CHECK(value("flock_anycast_prefix_hops", "10.255.53.0/24") == 4);
    CHECK(value("flock_anycast_prefix_routes", "10.255.0.0/16") == 1);  // not the /24's again
    CHECK(value("flock_anycast_prefix_hops", "10.255.0.0/16") == 2);
    CHECK(value("flock_anycast_prefix_routes", "fd00:255::/48") == 0);
    CHECK(value("flock_anycast_prefix_announced", "10.255.53.0/24") == 2);

    feed.observe(policy, installed, false);  // drained
    CHECK(value("flock_anycast_prefix_announced", "10.255.53.0/24") == 0);
    CHECK(value("flock_anycast_prefix_routes", "10.255.53.0/24") == 2);

    policy.namespaces.clear();  // SIGHUP: the /24 is no longer the policy's
    feed.observe(policy, installed, true);
    CHECK(value("flock_anycast_prefix_routes", "10.255.53.0/24") == 0);
    CHECK(value("flock_anycast_prefix_routes", "10.255.0.0/16") == 3);
}
