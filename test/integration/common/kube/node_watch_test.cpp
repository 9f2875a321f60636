// The node watcher (common/kube/node_watcher.hpp) against the test apiserver: its own Node
// object listed and watched by metadata.name, bookmarks, 410 Gone relists and an apiserver
// that goes away, asserting what the watcher reports.
#include "common/kube/node_watcher.hpp"
#include "test/support/netns.hpp"
#include "test/support/test_apiserver.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>

using namespace anycast;
using namespace anycast::test;
using common::kube::NodeInfo;
using common::kube::NodeWatcher;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

const std::string k_node = "worker-1";

struct NodeWatching {
    PrivateNetns netns;
    TestApiserver server;
    net::io_context io;
    boost::json::object node = make_node(k_node);
    std::vector<std::optional<NodeInfo>> reports;
    std::unique_ptr<NodeWatcher> watcher;

    NodeWatching() {
        server.put_node(node);
        server.put_node(make_node("worker-2"));
    }

    void start() {
        common::kube::NodeWatcherOptions options;
        options.node = k_node;
        options.backoff_initial = 20ms;
        options.backoff_max = 200ms;
        watcher = std::make_unique<NodeWatcher>(io, server.client_config(), options,
                                                [this](const std::optional<NodeInfo>& n) { reports.push_back(n); });
        watcher->start();
        run_until([&] { return watcher->synced() && server.open_watches("nodes") == 1; }, "list + watch");
    }
    // Runs the client until `done`; the limit only stops a hung test.
    template <typename Pred>
    void run_until(Pred done, const char* what) {
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > give_up) FAIL("gave up waiting for: " << what);
            io.restart();
            io.run_for(5ms);
        }
    }
    void wait_caught_up() {
        run_until([&] { return watcher->stats().resource_version == server.resource_version(); }, "catch up");
    }
    std::vector<std::string> watch_targets() const {
        std::vector<std::string> watches;
        for (const auto& target : server.requests()) {
            if (target.find("/api/v1/nodes") == 0 && target.find("watch=true") != std::string::npos)
                watches.push_back(target);
        }
        return watches;
    }
};

}  // namespace

TEST_CASE("the node watcher lists its Node by name, then reports each change of its drain view", "[kube]") {
    NodeWatching w;
    w.start();
    REQUIRE(w.reports.size() == 1);  // synced
    REQUIRE(w.reports[0]);
    CHECK(w.reports[0]->name == k_node);
    CHECK_FALSE(w.reports[0]->unschedulable);
    const auto lists = w.server.requests();
    CHECK(lists.front() == "/api/v1/nodes?fieldSelector=metadata.name%3Dworker-1");

    set_unschedulable(w.node, true);
    w.server.put_node(w.node);
    w.run_until([&] { return w.reports.size() == 2; }, "cordon");
    CHECK(w.reports[1]->unschedulable);

    // Another node's change and a change of ours that no drain rule reads: nothing reported.
    auto other = make_node("worker-2");
    set_unschedulable(other, true);
    w.server.put_node(other);
    set_node_label(w.node, "team", "dns");
    w.server.put_node(w.node);
    w.wait_caught_up();
    CHECK(w.reports.size() == 2);

    set_node_label(w.node, "node.kubernetes.io/exclude-from-external-load-balancers", "");
    add_taint(w.node, "example.com/maint", "NoSchedule");
    set_node_annotation(w.node, "anycast.flock.io/drain", "true");
    w.server.put_node(w.node);
    w.run_until([&] { return w.reports.size() == 3; }, "label, taint, annotation");
    CHECK(w.reports[2]->exclude_label);
    CHECK(w.reports[2]->taints == std::vector<common::kube::NodeTaint>{{"example.com/maint", "NoSchedule"}});
    CHECK(w.reports[2]->drain_annotation == "true");

    w.server.delete_node(k_node);
    w.run_until([&] { return w.reports.size() == 4; }, "deleted");
    CHECK_FALSE(w.reports[3]);
    CHECK(w.watcher->stats().failures == 0);
}

TEST_CASE("the node watch resumes at a BOOKMARK, and relists after 410 Gone with the state of meanwhile", "[kube]") {
    NodeWatching w;
    w.start();
    w.server.change_elsewhere();
    w.server.send_bookmark();
    const auto bookmark_rv = w.server.resource_version();
    w.wait_caught_up();
    w.server.end_watches();
    w.run_until([&] { return w.watcher->stats().watches == 2 && w.server.open_watches("nodes") == 1; }, "re-watch");
    REQUIRE(w.watch_targets().size() == 2);
    CHECK(w.watch_targets()[1].find("resourceVersion=" + bookmark_rv + "&") != std::string::npos);
    CHECK(w.reports.size() == 1);

    // Cordoned while nobody watched, and the history compacted: the watch gets 410, relists.
    w.server.go_away();
    set_unschedulable(w.node, true);
    w.server.put_node(w.node);
    w.server.compact();
    w.server.come_back();
    w.run_until([&] { return w.watcher->stats().lists == 2 && w.server.open_watches("nodes") == 1; }, "relist");
    CHECK(w.watcher->stats().gone == 1);
    REQUIRE(w.reports.size() == 2);
    CHECK(w.reports[1]->unschedulable);
}

TEST_CASE("while the apiserver is away the last known node stays; on return the watch resumes", "[kube]") {
    NodeWatching w;
    set_unschedulable(w.node, true);
    w.server.put_node(w.node);
    w.start();
    w.server.go_away();
    w.run_until([&] { return w.watcher->stats().failures >= 2; }, "failed attempts");
    CHECK(w.reports.size() == 1);
    CHECK(w.watcher->node()->unschedulable);

    w.server.come_back();
    w.run_until([&] { return w.server.open_watches("nodes") == 1; }, "watch again");
    set_unschedulable(w.node, false);
    w.server.put_node(w.node);
    w.run_until([&] { return w.reports.size() == 2; }, "uncordon");
    CHECK_FALSE(w.reports[1]->unschedulable);
    CHECK(w.watcher->stats().lists == 1);  // resumed, not relisted
}

TEST_CASE("a node without a Node object is reported as none, then its creation", "[kube]") {
    NodeWatching w;
    w.server.delete_node(k_node);
    w.start();
    REQUIRE(w.reports.size() == 1);
    CHECK_FALSE(w.reports[0]);
    w.server.put_node(w.node);
    w.run_until([&] { return w.reports.size() == 2; }, "created");
    CHECK(w.reports[1]->name == k_node);
}
