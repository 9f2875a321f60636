// The pod watcher and the pod GET against the test apiserver (real TLS, real wire format):
// every scripted behaviour, asserting the resulting cache and the eligibility triggers fired.
#include "common/kube/pod_get.hpp"
#include "common/kube/pod_watcher.hpp"
#include "test/support/netns.hpp"
#include "test/support/test_apiserver.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

using namespace anycast;
using namespace anycast::test;
using common::kube::EligibilityChange;
using common::kube::get_pod;
using common::kube::PodWatcher;
using common::kube::WatcherOptions;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

const std::string k_node = "worker-1";

// Runs the client's io_context until `done` holds. The limit only stops a hung test; nothing
// is asserted about how long it took.
template <typename Pred>
void run_until(net::io_context& io, Pred done, const char* what) {
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up) FAIL("gave up waiting for: " << what);
        io.restart();
        io.run_for(5ms);
    }
}

WatcherOptions fast_options() {
    WatcherOptions options;
    options.node = k_node;
    options.page_size = 2;
    options.backoff_initial = 20ms;
    options.backoff_max = 200ms;
    return options;
}

std::string param(const std::string& target, const std::string& name) {
    const auto at = target.find(name + "=");
    if (at == std::string::npos) return "<absent>";
    const auto start = at + name.size() + 1;
    return target.substr(start, target.find('&', start) - start);
}

std::vector<std::string> watch_requests(const TestApiserver& server) {
    std::vector<std::string> watches;
    for (const auto& target : server.requests()) {
        if (target.find("watch=true") != std::string::npos) watches.push_back(target);
    }
    return watches;
}

// `lookup` must throw a PodLookupError, transient or not as `transient` says (the CNI answers
// code 11 or 102), with a message containing every one of `texts`.
constexpr bool k_transient = true;
constexpr bool k_final = false;

template <typename Fn>
void check_lookup_error(Fn lookup, bool transient, std::initializer_list<const char*> texts) {
    try {
        lookup();
        FAIL("expected a PodLookupError");
    } catch (const common::kube::PodLookupError& e) {
        CHECK(e.transient() == transient);
        for (const char* text : texts) CHECK_THAT(e.what(), Catch::Matchers::Contains(text));
    }
}

// A watcher on the test apiserver with three pods of our node and one of another.
struct Watching {
    PrivateNetns netns;
    TestApiserver server;
    net::io_context io;
    std::vector<EligibilityChange> changes;
    std::unique_ptr<PodWatcher> watcher;

    explicit Watching(ApiserverOptions options = {}) : server(std::move(options)) {
        server.put_pod(make_pod("dns", "a", k_node, true, "10.255.53.53"));
        server.put_pod(make_pod("dns", "b", k_node, true, "10.255.53.53"));
        server.put_pod(make_pod("web", "c", k_node, false));
        server.put_pod(make_pod("dns", "elsewhere", "worker-2", true, "10.255.53.53"));
    }

    void start(common::kube::KubeConfig config, WatcherOptions options = fast_options()) {
        watcher = std::make_unique<PodWatcher>(io, std::move(config), std::move(options),
                                               [this](const std::vector<EligibilityChange>& batch) {
                                                   changes.insert(changes.end(), batch.begin(), batch.end());
                                               });
        watcher->start();
    }
    void start() { start(server.client_config()); }
    // Started, listed and watching, with the initial "pods appeared" changes forgotten.
    void start_synced() {
        start();
        wait_synced_and_watching();
        changes.clear();
    }

    void wait_synced_and_watching() {
        run_until(
            io, [&] { return watcher->synced() && server.open_watches() == 1; }, "list + watch");
    }
    // Until the watcher has seen everything the server has sent (same resourceVersion).
    void wait_caught_up() {
        run_until(
            io, [&] { return watcher->stats().resource_version == server.resource_version(); }, "catch up");
    }
    const common::kube::PodInfo* pod(const std::string& key) const { return watcher->cache().find(key); }
};

}  // namespace

TEST_CASE("a two-page list fills the cache, then the watch starts from the list's resourceVersion", "[kube]") {
    Watching w;
    const auto list_rv = w.server.resource_version();
    w.start();
    w.wait_synced_and_watching();

    CHECK(w.watcher->cache().size() == 3);
    CHECK(w.pod("dns/a")->ready);
    CHECK_FALSE(w.pod("web/c")->ready);
    CHECK(w.pod("dns/elsewhere") == nullptr);
    REQUIRE(w.changes.size() == 3);  // three pods became known
    for (const auto& change : w.changes) CHECK_FALSE(change.before);

    const auto requests = w.server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(param(requests[0], "fieldSelector") == "spec.nodeName%3Dworker-1");
    CHECK(param(requests[0], "limit") == "2");
    CHECK(param(requests[0], "continue") == "<absent>");
    CHECK(param(requests[1], "continue") != "<absent>");
    CHECK(param(requests[2], "watch") == "true");
    CHECK(param(requests[2], "resourceVersion") == list_rv);
    CHECK(param(requests[2], "allowWatchBookmarks") == "true");
    CHECK(param(requests[2], "timeoutSeconds") == "300");
    CHECK(w.watcher->stats().lists == 1);
    CHECK(w.watcher->stats().restarts == 0);
    CHECK(w.watcher->snapshot().size() == 3);
}

TEST_CASE("watch events of each type update the cache and fire only eligibility triggers", "[kube]") {
    Watching w;
    w.start_synced();

    // MODIFIED: Ready flips to false.
    auto a = make_pod("dns", "a", k_node, false, "10.255.53.53");
    w.server.put_pod(a);
    w.wait_caught_up();
    REQUIRE(w.changes.size() == 1);
    CHECK(w.changes[0].key == "dns/a");
    CHECK(w.changes[0].before->ready);
    CHECK_FALSE(w.changes[0].after->ready);

    // MODIFIED that does not touch eligibility (an annotation): cache updated, no trigger.
    auto b = make_pod("dns", "b", k_node, true, "10.255.53.53,10.255.53.54");
    w.server.put_pod(b);
    w.wait_caught_up();
    CHECK(w.changes.size() == 1);
    CHECK(common::kube::annotation_ips(*w.pod("dns/b"), "anycast.flock.io/ips").size() == 2);

    // MODIFIED: DeletionTimestamp set.
    set_deleting(b);
    w.server.put_pod(b);
    w.wait_caught_up();
    REQUIRE(w.changes.size() == 2);
    CHECK(w.changes[1].after->deleting);

    // ADDED, DELETED.
    w.server.put_pod(make_pod("dns", "d", k_node, true));
    w.server.delete_pod("dns", "b");
    w.wait_caught_up();
    REQUIRE(w.changes.size() == 4);
    CHECK(w.changes[2].key == "dns/d");
    CHECK_FALSE(w.changes[2].before);
    CHECK(w.changes[3].key == "dns/b");
    CHECK_FALSE(w.changes[3].after);

    // Another node's pod: never reaches this watch.
    w.server.put_pod(make_pod("dns", "far", "worker-2", false));
    w.server.put_pod(make_pod("dns", "a", k_node, true, "10.255.53.53"));
    w.wait_caught_up();
    REQUIRE(w.changes.size() == 5);
    CHECK(w.changes[4].key == "dns/a");
    CHECK(w.pod("dns/far") == nullptr);
    CHECK(w.watcher->cache().size() == 3);
    CHECK(w.watcher->stats().watches == 1);
}

TEST_CASE("a BOOKMARK moves the resume point without touching the cache", "[kube]") {
    Watching w;
    w.start_synced();

    w.server.change_elsewhere();
    w.server.change_elsewhere();
    w.server.send_bookmark();
    const auto bookmark_rv = w.server.resource_version();
    w.wait_caught_up();
    CHECK(w.changes.empty());

    // The server ends the watch (timeoutSeconds): the client resumes at the bookmark.
    w.server.end_watches();
    run_until(
        w.io, [&] { return w.watcher->stats().watches == 2 && w.server.open_watches() == 1; }, "re-watch");
    const auto watches = watch_requests(w.server);
    REQUIRE(watches.size() == 2);
    CHECK(param(watches[1], "resourceVersion") == bookmark_rv);
    CHECK(w.watcher->stats().lists == 1);
    CHECK(w.watcher->stats().failures == 0);
    CHECK(w.watcher->stats().restarts == 1);  // the ended watch, resumed
    CHECK(w.changes.empty());
}

TEST_CASE("a 410 ERROR event makes the client relist, and pods that vanished meanwhile are removed", "[kube]") {
    Watching w;
    w.start_synced();

    // While nobody watches: b is deleted and c becomes ready, then the history is compacted.
    w.server.go_away();
    w.server.delete_pod("dns", "b");
    w.server.put_pod(make_pod("web", "c", k_node, true));
    w.server.compact();
    w.server.come_back();

    run_until(
        w.io, [&] { return w.watcher->stats().lists == 2 && w.server.open_watches() == 1; }, "relist");
    CHECK(w.watcher->stats().gone == 1);
    CHECK(w.pod("dns/b") == nullptr);
    CHECK(w.pod("web/c")->ready);
    CHECK(w.pod("dns/a")->ready);
    REQUIRE(w.changes.size() == 2);
    CHECK(w.changes[0].key == "dns/b");
    CHECK_FALSE(w.changes[0].after);
    CHECK(w.changes[1].key == "web/c");
    CHECK(w.changes[1].after->ready);
    const auto watches = watch_requests(w.server);
    CHECK(param(watches.back(), "resourceVersion") == w.server.resource_version());
}

TEST_CASE("while the apiserver is away the last known state stays; on return the watch resumes", "[kube]") {
    Watching w;
    w.start_synced();
    const auto rv_before = w.server.resource_version();

    w.server.go_away();
    run_until(
        w.io, [&] { return w.watcher->stats().failures >= 3; }, "reconnect attempts");
    CHECK(w.changes.empty());  // no mass withdraw
    CHECK(w.watcher->cache().size() == 3);
    CHECK(w.pod("dns/a")->ready);

    w.server.put_pod(make_pod("dns", "a", k_node, false, "10.255.53.53"));  // happens while away
    w.server.come_back();
    run_until(
        w.io, [&] { return !w.pod("dns/a")->ready; }, "the missed event");
    REQUIRE(w.changes.size() == 1);
    CHECK(w.changes[0].key == "dns/a");
    CHECK(w.watcher->stats().lists == 1);  // resumed, not relisted
    CHECK(param(watch_requests(w.server).back(), "resourceVersion") == rv_before);
}

TEST_CASE(
    "500 pods with 256 KiB of annotations each: pages shrink until they fit, and only the anycast "
    "annotation is kept",
    "[kube]") {
    Watching w;
    const std::string blob(256 * 1024 - 64, 'x');  // the apiserver's limit for all of a pod's annotations
    for (int i = 0; i < 500; ++i) {
        auto pod = make_pod("big", fmt::format("p{:03}", i), k_node, true, "10.255.53.53");
        pod["metadata"].as_object()["annotations"].as_object()["example.com/blob"] = blob;
        w.server.put_pod(std::move(pod));
    }
    WatcherOptions options = fast_options();
    options.page_size = 500;  // the default: 128 MiB in one page
    w.start(w.server.client_config(), options);
    w.wait_synced_and_watching();

    CHECK(w.watcher->cache().size() == 503);
    CHECK(w.watcher->stats().lists == 1);
    CHECK(w.watcher->stats().failures == 0);
    const auto* pod = w.pod("big/p499");
    REQUIRE(pod != nullptr);
    CHECK(pod->annotations == std::map<std::string, std::string>{{"anycast.flock.io/ips", "10.255.53.53"}});
    // 500 → 250 → 125 → 62 pods per page: each page at most 16 MiB.
    std::vector<std::string> limits;
    for (const auto& target : w.server.requests()) {
        if (target.find("watch=true") == std::string::npos) limits.push_back(param(target, "limit"));
    }
    REQUIRE(limits.size() >= 4);
    CHECK(limits[0] == "500");
    CHECK(limits[3] == "62");
    CHECK(limits.back() == "62");
}

TEST_CASE("a list whose continue tokens never end fails that attempt and is retried, never spins", "[kube]") {
    const auto mode = GENERATE(ContinueMode::repeat, ContinueMode::endless);
    INFO("mode " << static_cast<int>(mode));
    Watching w;
    w.server.set_continue_mode(mode);
    WatcherOptions options = fast_options();
    options.max_list_pages = 20;
    w.start(w.server.client_config(), options);
    run_until(
        w.io, [&] { return w.watcher->stats().failures >= 2; }, "two failed lists");
    CHECK_FALSE(w.watcher->synced());
    // Bounded: each attempt stops at a repeated token or at max_list_pages.
    CHECK(w.server.requests().size() <= 2 * 20 + 20);

    w.server.set_continue_mode(ContinueMode::honest);
    w.wait_synced_and_watching();
    CHECK(w.watcher->cache().size() == 3);
}

TEST_CASE("a stream cut mid-event resumes from the last resourceVersion and applies the event once", "[kube]") {
    Watching w;
    w.start_synced();
    const auto rv_before = w.server.resource_version();

    w.server.put_pod_cut_mid_event(make_pod("dns", "a", k_node, false, "10.255.53.53"));
    run_until(
        w.io, [&] { return !w.pod("dns/a")->ready; }, "the cut event, replayed");
    w.wait_caught_up();
    REQUIRE(w.changes.size() == 1);
    CHECK(w.changes[0].key == "dns/a");
    CHECK(w.watcher->stats().failures == 1);
    CHECK(w.watcher->stats().restarts == 1);  // the broken stream, resumed
    CHECK(w.watcher->stats().lists == 1);
    const auto watches = watch_requests(w.server);
    REQUIRE(watches.size() == 2);
    CHECK(param(watches[1], "resourceVersion") == rv_before);
}

TEST_CASE("malformed event lines are skipped with a log line and the stream goes on", "[kube]") {
    Watching w;
    w.start_synced();

    w.server.send_raw("{this is not json\n");
    w.server.send_raw("{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n");
    w.server.send_raw("{\"type\":\"PATCHED\",\"object\":{}}\n");
    w.server.put_pod(make_pod("dns", "a", k_node, false, "10.255.53.53"));
    w.wait_caught_up();
    CHECK(w.watcher->stats().malformed_lines == 3);
    CHECK(w.watcher->stats().watches == 1);
    CHECK(w.watcher->stats().failures == 0);
    REQUIRE(w.changes.size() == 1);
    CHECK_FALSE(w.pod("dns/a")->ready);
}

TEST_CASE("a bad token gets 401: nothing is listed, the client keeps retrying", "[kube]") {
    Watching w;
    w.start(w.server.client_config("wrong-token"));
    run_until(
        w.io, [&] { return w.watcher->stats().failures >= 2; }, "refused attempts");
    CHECK_FALSE(w.watcher->synced());
    CHECK(w.watcher->cache().size() == 0);
    CHECK(w.changes.empty());

    auto config = w.server.client_config("wrong-token");
    check_lookup_error([&] { get_pod(config, "dns", "a"); }, k_final, {"401", "Unauthorized"});
}

TEST_CASE("a server certificate from another CA is refused before any request is sent", "[kube]") {
    Watching w;
    const auto other = TestPki::make({"IP:127.0.0.1"});
    auto config = w.server.client_config();
    config.ca_pem = other.ca_pem;
    w.start(config);
    run_until(
        w.io, [&] { return w.watcher->stats().failures >= 2; }, "refused handshakes");
    CHECK(w.server.requests().empty());
    CHECK_FALSE(w.watcher->synced());
    check_lookup_error([&] { get_pod(config, "dns", "a"); }, k_final, {"certificate rejected"});
}

TEST_CASE("a certificate for another name is refused (hostname verification)", "[kube]") {
    Watching w({.token = "test-token", .sans = {"DNS:apiserver.elsewhere"}});
    auto config = w.server.client_config();
    check_lookup_error([&] { get_pod(config, "dns", "a"); }, k_final, {"certificate rejected", "mismatch"});
    CHECK(w.server.requests().empty());
    // The same CA and certificate are accepted when checked against the name they carry.
    config.tls_server_name = "apiserver.elsewhere";
    CHECK(common::kube::get_pod(config, "dns", "a").ready);
}

TEST_CASE("GET one pod: the annotation's IPs, 404 final, an unreachable apiserver transient", "[kube]") {
    Watching w;
    auto config = w.server.client_config();
    const auto pod = common::kube::get_pod(config, "dns", "a");
    CHECK(pod.uid == "uid-dns-a");
    CHECK(common::kube::annotation_ips(pod, "anycast.flock.io/ips") == std::vector<std::string>{"10.255.53.53"});

    check_lookup_error([&] { get_pod(config, "dns", "nope"); }, k_final, {"pods \"nope\" not found"});

    w.server.go_away();
    check_lookup_error([&] { get_pod(config, "dns", "a"); }, k_transient, {"refused"});
}

TEST_CASE("GET one pod from an apiserver that never answers times out, transient", "[kube]") {
    PrivateNetns netns;
    // A listener that never accepts: the TCP handshake completes in the kernel, TLS never does.
    net::io_context io;
    net::ip::tcp::acceptor silent(io, {net::ip::make_address("127.0.0.1"), 0});
    const auto pki = TestPki::make({"IP:127.0.0.1"});
    common::kube::KubeConfig config;
    config.host = "127.0.0.1";
    config.port = std::to_string(silent.local_endpoint().port());
    config.ca_pem = pki.ca_pem;
    check_lookup_error([&] { get_pod(config, "dns", "a", common::kube::k_ips_annotation, 300ms); }, k_transient, {});
}

TEST_CASE("a pod's annotation is read with a kubeconfig and with the in-cluster account", "[kube]") {
    Watching w;
    const std::string dir = w.server.pki().dir.path();
    auto from_file = common::kube::load_kube_config(w.server.write_kubeconfig(dir + "/kubeconfig"));
    CHECK(common::kube::annotation_ips(get_pod(from_file, "dns", "a"), "anycast.flock.io/ips") ==
          std::vector<std::string>{"10.255.53.53"});
    CHECK(common::kube::annotation_ips(get_pod(from_file, "web", "c"), "anycast.flock.io/ips").empty());

    std::filesystem::create_directories(dir + "/sa");
    std::filesystem::copy_file(w.server.pki().ca_path, dir + "/sa/ca.crt");
    std::ofstream(dir + "/sa/token") << "test-token\n";
    auto config = common::kube::load_in_cluster(
        {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"}, {"KUBERNETES_SERVICE_PORT", std::to_string(w.server.port())}},
        dir + "/sa");
    CHECK(common::kube::get_pod(config, "dns", "b").name == "b");
    // A rotated token is picked up by the next request.
    std::ofstream(dir + "/sa/token.new") << "rotated-token\n";
    std::filesystem::rename(dir + "/sa/token.new", dir + "/sa/token");
    CHECK_THROWS_WITH(common::kube::get_pod(config, "dns", "b"), Catch::Matchers::Contains("401"));

    CHECK_THROWS_AS(common::kube::load_kube_config(dir + "/missing"), common::kube::KubeConfigError);
}
