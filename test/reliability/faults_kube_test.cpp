// Fault: the apiserver gone for a long time (issue 15 item B.3). serve with the `kubernetes`
// readiness source against the test apiserver, in a private namespace (serve's lab: veth pods,
// records written through the store): while the apiserver refuses every connection the watch
// retries with backoff and the last known pod states stay in force, so the kernel routes stay
// exactly as they were; when it returns, serve relists and applies what changed meanwhile.
//
// The outage lasts FLOCK_FAULT_OUTAGE_SECONDS (default 20: past five list/watch retries with
// the watcher's 0.5 s..30 s backoff). A run of minutes, e.g. ten:
//   FLOCK_FAULT_OUTAGE_SECONDS=600 unshare --net -- build/test/reliability/reliability_tests '[kube]'
#include "test/support/logged_check.hpp"
#include "test/support/netns.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace anycast::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::chrono::seconds outage_length() {
    const char* text = std::getenv("FLOCK_FAULT_OUTAGE_SECONDS");
    const long seconds = text != nullptr ? std::strtol(text, nullptr, 10) : 0;
    return std::chrono::seconds(seconds > 0 ? seconds : 20);
}

}  // namespace

TEST_CASE("apiserver gone for long: routes stay the whole time; on return serve relists and converges to the changes",
          "[faults][kube][netns]") {
    PrivateNetns netns;
    TestApiserver server;
    // A resync every 2 s: full passes keep running during the outage and must not withdraw.
    ServeLab lab(2);
    std::vector<json::object> pods;
    for (int i = 1; i <= 3; ++i) {
        const ServePod& pod = lab.add_pod(i);
        lab.write_record(pod);
        pods.push_back(make_pod("dns", pod.name, "worker-1", true, ServeLab::anycast_v4));
        server.put_pod(pods.back());
    }
    const ServePod& p1 = lab.pods[0];
    const ServePod& p2 = lab.pods[1];
    const ServePod& p3 = lab.pods[2];

    const std::string listen = "127.0.0.1:19651";
    lab.config["kubeconfig"] = server.write_kubeconfig(lab.dir.file("kubeconfig"));
    lab.config["readiness"] = json::object{{"source", "kubernetes"}};
    lab.config["metrics"] = json::object{{"listen", listen}};
    lab.write_config();
    auto serve = lab.start_serve();

    REQUIRE_LOGGED(lab.log(), lab.wait_routed_via({&p1, &p2, &p3}));
    REQUIRE(wait_until([&] { return server.open_watches() == 1; }));
    REQUIRE_LOGGED(lab.log(), wait_scraped(listen, "flock_anycast_kube_relists_total", 1));
    const double restarts_before = scraped(listen, "flock_anycast_kube_watch_restarts_total");

    // Down: every connection refused, the open watch cut.
    const auto outage = outage_length();
    const auto down_at = std::chrono::steady_clock::now();
    server.go_away();

    // What happens while serve cannot see it: pod2's probe fails, pod3 is deleted, pod4 is
    // created (its record written by the CNI while serve does not know the pod yet). The
    // history is compacted too, as a real apiserver's would be after minutes: the resumed
    // watch gets 410 Gone and serve must list again.
    set_ready(pods[1], false);
    server.put_pod(pods[1]);
    server.delete_pod("dns", p3.name);
    const ServePod& p4 = lab.add_pod(4);
    lab.write_record(p4);
    server.put_pod(make_pod("dns", p4.name, "worker-1", true, ServeLab::anycast_v4));
    server.compact();

    // The whole outage: the last known states stay in force, checked every 250 ms.
    int samples = 0;
    int wrong = 0;
    while (std::chrono::steady_clock::now() - down_at < outage) {
        if (!ServeLab::routed_via({&p1, &p2, &p3})) ++wrong;
        ++samples;
        REQUIRE(serve->alive());
        std::this_thread::sleep_for(250ms);
    }
    CHECK_LOGGED(lab.log(), wrong == 0);
    CHECK(samples >= outage.count());  // at least one a second, however loaded the machine
    // Several list/watch attempts failed and backed off meanwhile (0.5, 1, 2, 4, 8, 16 s...).
    const double restarts_down = scraped(listen, "flock_anycast_kube_watch_restarts_total");
    CHECK_LOGGED(lab.log(), restarts_down - restarts_before >= 4);
    CHECK(scraped(listen, "flock_anycast_kube_relists_total") == 1);
    CHECK(lab.log().find("list/watch failed, keeping the last known pod states") != std::string::npos);

    // Back: the next attempt (at most the 30 s backoff ceiling later) relists and converges.
    server.come_back();
    CHECK_LOGGED(lab.log(), wait_until([&] { return ServeLab::routed_via({&p1, &p4}); }, 60s));
    CHECK(scraped(listen, "flock_anycast_kube_relists_total") >= 2);
    CHECK(lab.log().find("relisting") != std::string::npos);
    CHECK(wait_until([&] { return server.open_watches() == 1; }));

    // And the watch is live again: a change after the return arrives as an event.
    set_ready(pods[1], true);
    server.put_pod(pods[1]);
    CHECK_LOGGED(lab.log(), lab.wait_routed_via({&p1, &p2, &p4}));
    CHECK(serve->alive());
}
