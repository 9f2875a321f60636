// Faults under serve (issue 15 item B.3), in serve's lab (test/support/serve_lab.hpp: veth pods
// in a private namespace, records written through the store, readiness from a file): a pod's
// veth vanishing while passes run, a garbage readiness file, and 10 000 records at once.
#include "common/store/record_store.hpp"
#include "test/support/logged_check.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;
using namespace std::chrono_literals;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Lines of serve's log at level error.
std::string error_lines(const std::string& log) {
    std::istringstream lines(log);
    std::string out;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(" level=error ") != std::string::npos) out += line + "\n";
    }
    return out;
}

// Writes `text` in place (open, truncate, write), as a careless writer does: serve's inotify
// sees the close of a file that is whatever was written.
void write_in_place(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// The routes stay via exactly these pods for `period` (sampled every 100 ms).
bool stays_routed_via(const std::vector<const ServePod*>& via, std::chrono::milliseconds period) {
    const auto until = std::chrono::steady_clock::now() + period;
    while (std::chrono::steady_clock::now() < until) {
        if (!ServeLab::routed_via(via)) return false;
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

}  // namespace

TEST_CASE("a pod's host veth vanishing under serve: no crash, its hop goes, the rest stays; re-created it comes back",
          "[faults][serve][netns]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(3);
    const ServePod& p1 = lab.pods[0];
    const ServePod& p2 = lab.pods[1];
    const ServePod& p3 = lab.pods[2];

    // Passes all the time: a fourth pod with an address of its own flips between ready and
    // not ready every 5 ms, so the veth goes while serve reads, diffs or writes the kernel.
    const ServePod& flipper = lab.add_pod(4);
    lab.write_record(flipper, {"10.255.53.99"});
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        bool ready = false;
        while (!stop) {
            ready = !ready;
            lab.set_pods({ServeLab::ready(p1), ServeLab::ready(p2), ServeLab::ready(p3),
                          ready ? ServeLab::ready(flipper) : ServeLab::not_ready(flipper)});
            std::this_thread::sleep_for(5ms);
        }
    });
    struct Join {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~Join() {
            stop = true;
            if (thread.joinable()) thread.join();
        }
    } join{stop, churn};

    for (int round = 0; round < 5; ++round) {
        INFO("round " << round);
        // Deleting the host end deletes the pair; the kernel drops every route through it
        // (our multipath route whole, for IPv4): serve re-installs it with the other hops.
        sh("ip link del " + p2.host_end);
        CHECK_LOGGED(lab.log(), lab.wait_routed_via({&p1, &p3}));
        REQUIRE(serve->alive());
        lab.make_link(p2);
        CHECK_LOGGED(lab.log(), lab.wait_routed_via({&p1, &p2, &p3}));
        REQUIRE(serve->alive());
    }
    stop = true;
    churn.join();

    // The missing interface is reported, not an error that kills anything.
    CHECK(lab.log().find("left out: interface not found") != std::string::npos);
    CHECK_LOGGED(lab.log(), stays_routed_via({&p1, &p2, &p3}, 500ms));
    CHECK(serve->alive());
}

TEST_CASE(
    "a garbage readiness file (binary junk, truncated JSON, a huge file): serve keeps the last good states, "
    "logs it, and recovers when the file is fixed",
    "[faults][serve][netns]") {
    PrivateNetns netns;
    ServeLab lab;
    auto serve = lab.start_serving(2);
    const ServePod& p1 = lab.pods[0];
    const ServePod& p2 = lab.pods[1];
    const std::string pods_file = lab.dir.file("pods.json");
    const std::string unusable = "msg=\"readiness file unusable; keeping the last good pod states\"";
    const std::string usable = "msg=\"readiness file usable again\"";

    // Binary junk (NUL, high bytes, control characters), written in place.
    std::string junk(8192, '\0');
    std::mt19937 random(15);
    for (auto& c : junk) c = static_cast<char>(random() & 0xff);
    write_in_place(pods_file, junk);
    REQUIRE_LOGGED(lab.log(), lab.wait_log(unusable, 1));
    CHECK_LOGGED(lab.log(), stays_routed_via({&p1, &p2}, 500ms));
    // The warning names the file and the problem, on one line of text.
    std::string log = lab.log();
    const std::string warning = log.substr(log.find(unusable), log.find('\n', log.find(unusable)) - log.find(unusable));
    CHECK(warning.find("file=" + pods_file) != std::string::npos);
    CHECK(warning.find("invalid JSON") != std::string::npos);
    CHECK(warning.find('\0') == std::string::npos);

    // Fixed: pod2 is now not ready, and serve follows at once.
    lab.set_pods({ServeLab::ready(p1), ServeLab::not_ready(p2)});
    REQUIRE_LOGGED(lab.log(), lab.wait_log(usable, 1));
    REQUIRE_LOGGED(lab.log(), lab.wait_routed_via({&p1}));

    // Truncated JSON (a writer that died half-way): the last good states stay.
    const std::string whole = R"([{"namespace":"dns","name":"pod1","uid":"","ready":true,"deleting":false},)"
                              R"({"namespace":"dns","name":"pod2","uid":"","ready":true,"deleting":false}])";
    write_in_place(pods_file, whole.substr(0, whole.size() / 2));
    REQUIRE_LOGGED(lab.log(), lab.wait_log(unusable, 2));
    CHECK_LOGGED(lab.log(), stays_routed_via({&p1}, 500ms));
    write_in_place(pods_file, whole);
    REQUIRE_LOGGED(lab.log(), lab.wait_log(usable, 2));
    REQUIRE_LOGGED(lab.log(), lab.wait_routed_via({&p1, &p2}));

    // A huge file (64 MiB): refused without reading it into memory, the loop keeps turning.
    {
        std::ofstream out(pods_file, std::ios::binary | std::ios::trunc);
        const std::string entry = R"({"namespace":"dns","name":"pod1","uid":"","ready":false,"deleting":false},)";
        out << '[';
        for (std::size_t written = 0; written < (64u << 20); written += entry.size()) out << entry;
        out << R"({"namespace":"dns","name":"pod2","uid":"","ready":false,"deleting":false}])";
    }
    REQUIRE_LOGGED(lab.log(), lab.wait_log(unusable, 3));
    log = lab.log();
    CHECK(log.find("too large", log.rfind(unusable)) != std::string::npos);
    CHECK_LOGGED(lab.log(), stays_routed_via({&p1, &p2}, 500ms));

    // A missing file is unusable too, and the states stay.
    std::filesystem::remove(pods_file);
    REQUIRE_LOGGED(lab.log(), lab.wait_log(unusable, 4));
    CHECK_LOGGED(lab.log(), stays_routed_via({&p1, &p2}, 500ms));

    lab.set_pods({ServeLab::not_ready(p1), ServeLab::ready(p2)});
    REQUIRE_LOGGED(lab.log(), lab.wait_log(usable, 3));
    CHECK_LOGGED(lab.log(), lab.wait_routed_via({&p2}));
    CHECK(serve->alive());
    CHECK(error_lines(lab.log()) == "");
}

TEST_CASE(
    "10 000 records written at once through the store while serve runs: it converges to 20 000 routes, "
    "no error",
    "[faults][serve][netns]") {
    PrivateNetns netns;
    ServeLab lab;
    // The records on a tmpfs (/dev/shm, no mount of ours): this is about serve taking a burst
    // of 10 000 new files, not the disk's fsync rate (2.4 ms a record here, 24 s in all).
    TempDir shm("bulk", "/dev/shm");
    const std::string state = shm.file("state");
    const std::string listen = "127.0.0.1:19652";
    lab.config["stateDir"] = state;
    lab.config["metrics"] = boost::json::object{{"listen", listen}};
    lab.config["logLevel"] = "info";
    lab.write_config();

    constexpr int k_pods = 10;
    constexpr int k_records = 10000;
    std::vector<common::PodState> ready;
    for (int i = 1; i <= k_pods; ++i) ready.push_back(ServeLab::ready(lab.add_pod(i)));
    lab.set_pods(ready);
    auto serve = lab.start_serve();
    REQUIRE_LOGGED(lab.log(), wait_until([&] {
                       return scraped(listen, "flock_anycast_reconcile_passes_total{result=\"success\"}") >= 1;
                   }));

    // Record n: pod n % 10, addresses 10.255.<n/256>.<n%256> and fd00:255::1:<n>, written by
    // four writers at once (the store's lock orders them), as a node's CNI calls would be.
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            common::RecordStore store(state);
            for (int n = w; n < k_records; n += 4) {
                const ServePod& pod = lab.pods[static_cast<std::size_t>(n % k_pods)];
                try {
                    store.put(
                        RecordBuilder("k8s", fmt::format("bulk-{}", n))
                            .netns(pod.ns->path())
                            .pod("dns", pod.name)
                            .ips({fmt::format("10.255.{}.{}", n / 256, n % 256), fmt::format("fd00:255::1:{:x}", n)})
                            .nexthop(pod.v4, pod.host_end)
                            .nexthop(pod.v6, pod.host_end)
                            .build());
                } catch (const std::exception&) {
                    ++failures;
                }
            }
        });
    }
    for (auto& writer : writers) writer.join();
    REQUIRE(failures == 0);
    const auto written = std::chrono::steady_clock::now();

    const auto count = [](const char* family) {
        // -o: one line a route (IPv6 prints a route through a nexthop group on several).
        return line_count(ServeLab::show(std::string("ip -o ") + family + " route show table 241 proto 241"));
    };
    CHECK_LOGGED(lab.log(), wait_until([&] { return count("-4") == k_records && count("-6") == k_records; }, 60s));
    const auto converged = std::chrono::steady_clock::now();
    WARN("10 000 records written in "
         << std::chrono::duration_cast<std::chrono::milliseconds>(written - started).count() << " ms; serve converged "
         << std::chrono::duration_cast<std::chrono::milliseconds>(converged - written).count() << " ms later");

    // Each route via its own pod.
    for (int n : {0, 1, 4999, 9999}) {
        const ServePod& pod = lab.pods[static_cast<std::size_t>(n % k_pods)];
        CHECK(ServeLab::hops(fmt::format("10.255.{}.{}", n / 256, n % 256)) == std::vector<std::string>{pod.v4});
        CHECK(ServeLab::hops(fmt::format("fd00:255::1:{:x}", n)) == std::vector<std::string>{pod.v6});
    }
    CHECK(wait_scraped(listen, "flock_anycast_records", k_records));
    CHECK(scraped(listen, "flock_anycast_routes_installed{family=\"ipv4\"}") == k_records);
    CHECK(scraped(listen, "flock_anycast_routes_installed{family=\"ipv6\"}") == k_records);
    CHECK(scraped(listen, "flock_anycast_reconcile_passes_total{result=\"failure\"}") == 0);
    CHECK(scraped(listen, "flock_anycast_netlink_errors_total") == 0);
    CHECK(error_lines(lab.log()) == "");
    CHECK(count_of(lab.log(), "level=warn") == 0);
    CHECK(serve->alive());
}

// A second route with our protocol in our table on one of our destinations, at another metric
// (`ip route add ... proto 241 metric 50`), is ours by docs/operations.md ("Route ownership")
// and must go. It never did (issue 15 B.3 report): the dump keyed routes by destination only
// (IPv6 hops of both merged into one route), diff_routes kept the first per destination, and a
// delete without a priority removed whichever the kernel found first; the IPv6 one at metric
// 50 won forwarding, to a hop serve never chose. Fixed in issue 19: routes carry their metric
// (common/netlink/route.hpp), are keyed by it, and the extra one is deleted by its metric.
// Both ECMP modes: ours is a plain route in one, a route through a nexthop group in the other.
TEST_CASE("a second route of ours at another metric, added by hand, is removed", "[faults][serve][netns]") {
    const std::string mode = GENERATE(as<std::string>{}, "resilient", "multipath");
    INFO("routes.ecmp " << mode);
    PrivateNetns netns;
    ServeLab lab;
    lab.config["routes"].as_object()["ecmp"] = mode;
    lab.write_config();
    auto serve = lab.start_serving(1);
    const ServePod& pod = lab.pods[0];
    sh("ip route add 10.255.53.53/32 table 241 proto 241 metric 50 via 10.0.0.99 dev " + pod.host_end + " onlink");
    sh("ip -6 route add fd00:255::53/128 table 241 proto 241 metric 50 via fd00::99 dev " + pod.host_end + " onlink");
    const bool repaired = wait_until(
        [&] {
            return line_count(ServeLab::show("ip -o -4 route show table 241 proto 241")) == 1 &&
                   line_count(ServeLab::show("ip -o -6 route show table 241 proto 241")) == 1 &&
                   ServeLab::routed_via({&pod});
        },
        3s);
    CHECK_LOGGED(lab.log(), repaired);
}
