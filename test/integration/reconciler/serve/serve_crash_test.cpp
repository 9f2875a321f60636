// serve killed by SIGKILL at random moments, many of them in the middle of a pass, then
// restarted: it must converge to exactly the routes the records and readiness ask for, with
// none of ours left for a pod that is gone (issue 15 item B.2).
#include "test/support/background_process.hpp"
#include "test/support/process.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace anycast;
using namespace anycast::test;

namespace {

// destination → its next hops (pod IPs), sorted: table 241 as the kernel has it.
using RouteMap = std::map<std::string, std::set<std::string>>;

RouteMap kernel_routes() {
    RouteMap routes;
    for (const char* family : {"-4", "-6"}) {
        std::istringstream lines(ServeLab::show(fmt::format("ip {} -o route show table 241", family)));
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream words(line);
            std::string destination, word, previous;
            words >> destination;
            auto& hops = routes[destination];
            while (words >> word) {
                if (previous == "via") hops.insert(word);
                previous = word;
            }
        }
    }
    return routes;
}

enum class PodFate { ready, not_ready, gone };

// Our nexthop objects (routes.ecmp resilient, the default), one line each as `ip nexthop`
// prints them: what a pass writes before its routes.
std::string kernel_nexthops() { return sh("ip nexthop show proto 241 2>/dev/null || true"); }

std::size_t line_count(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A gateway object per ready pod and family, and a group per route; nothing else of ours.
std::size_t expected_nexthops(const std::vector<PodFate>& fates, std::size_t routes) {
    if (routes == 0) return 0;
    return routes + 2 * static_cast<std::size_t>(std::count(fates.begin(), fates.end(), PodFate::ready));
}

#ifdef FLOCK_TEST_HOOKS
constexpr bool k_fault_hooks = true;
#else
constexpr bool k_fault_hooks = false;  // -Dtest_hooks=false: only the random kills
#endif

std::size_t count_passes(const std::string& log) {
    std::size_t count = 0;
    for (auto at = log.find("msg=pass"); at != std::string::npos; at = log.find("msg=pass", at + 1)) ++count;
    return count;
}

// 3 000 IPv4 and 3 000 IPv6 anycast addresses every pod asks for: 6 000 routes whose hops
// all change when one pod's fate does, more than one netlink chunk (256 KiB) even when
// they are all deletes, so a pass can be stopped between its chunks.
std::vector<std::string> many_ips() {
    std::vector<std::string> ips;
    for (int k = 0; k < 3000; ++k) ips.push_back(fmt::format("10.255.{}.{}", 1 + k / 200, 1 + k % 200));
    for (int k = 0; k < 3000; ++k) ips.push_back(fmt::format("fd00:255::{:x}", 0x100 + k));
    return ips;
}

RouteMap expected_routes(const std::deque<ServePod>& pods, const std::vector<PodFate>& fates,
                         const std::vector<std::string>& ips) {
    RouteMap routes;
    for (const auto& ip : ips) {
        const bool v6 = ip.find(':') != std::string::npos;
        std::set<std::string> hops;
        for (std::size_t i = 0; i < pods.size(); ++i) {
            if (fates[i] == PodFate::ready) hops.insert(v6 ? pods[i].v6 : pods[i].v4);
        }
        if (!hops.empty()) routes[ip] = hops;
    }
    return routes;
}

}  // namespace

TEST_CASE("serve killed by SIGKILL at random moments, also mid-pass, converges after each restart",
          "[netns][serve][crash]") {
    PrivateNetns netns;
    ServeLab lab;
    const auto ips = many_ips();
    std::vector<PodFate> fates(3, PodFate::ready);
    for (int i = 1; i <= 3; ++i) lab.write_record(lab.add_pod(i), ips);
    const auto apply = [&] {
        std::vector<common::PodState> states;
        for (std::size_t i = 0; i < lab.pods.size(); ++i) {
            if (fates[i] == PodFate::gone) continue;
            states.push_back(fates[i] == PodFate::ready ? ServeLab::ready(lab.pods[i])
                                                        : ServeLab::not_ready(lab.pods[i]));
        }
        lab.set_pods(states);
    };
    apply();
    auto serve = lab.start_serve();
    REQUIRE(wait_until([&] { return kernel_routes() == expected_routes(lab.pods, fates, ips); }));

    const char* seed_env = std::getenv("FLOCK_CRASH_SEED");
    const unsigned seed = seed_env ? static_cast<unsigned>(std::stoul(seed_env)) : std::random_device{}();
    INFO("seed " << seed << " (FLOCK_CRASH_SEED reproduces a run)");
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> moment_us(0, 20'000);
    int mid_pass = 0, not_started = 0, done = 0, veth_gone = 0;
    constexpr int k_rounds = 20;
    for (int round = 0; round < k_rounds; ++round) {
        // Even rounds: serve stops itself between the netlink chunks of its pass (the fault
        // hook), a kill certain to land mid-pass. Odd rounds: SIGKILL at a random moment.
        const bool between_chunks = k_fault_hooks && round % 2 == 0;
        if (between_chunks) {
            // Converged, so this start changes nothing and the hook waits for the next pass.
            serve->stop(SIGTERM);
            const std::size_t passes = count_passes(lab.log());
            serve = std::make_unique<BackgroundProcess>(
                std::vector<std::string>{"env", "FLOCK_TEST_FAULT=netlink-between-chunks", flock_binary(), "serve",
                                         "--config", lab.config_path()},
                lab.log_path());
            REQUIRE(lab.wait_log("msg=pass", passes + 1));
        }
        // One pod changes its fate: ready, not ready, or gone (record and veth removed);
        // the hook's rounds keep every veth, so only serve changes the routes, and one pod
        // always stays, so they have one to change.
        std::size_t i = 0;
        PodFate old_fate, fate;
        do {
            i = random() % lab.pods.size();
            old_fate = fates[i];
            fate = static_cast<PodFate>(random() % 3);
        } while (fate == old_fate || (between_chunks && (fate == PodFate::gone || old_fate == PodFate::gone)) ||
                 (fate == PodFate::gone && std::count(fates.begin(), fates.end(), PodFate::gone) == 2));
        INFO("round " << round << ": pod " << i << " " << static_cast<int>(old_fate) << " -> "
                      << static_cast<int>(fate));
        const auto before = kernel_routes();
        const auto nexthops_before = kernel_nexthops();
        fates[i] = fate;
        auto& pod = lab.pods[i];
        if (old_fate == PodFate::gone) {
            lab.make_link(pod);
            lab.write_record(pod, ips);
        }
        if (fate == PodFate::gone) {
            lab.remove_record(pod);
            sh("ip link del " + pod.host_end);
        }
        apply();
        if (between_chunks) {
            REQUIRE(wait_until([&] { return !serve->alive(); }));
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(moment_us(random)));
            serve->stop(SIGKILL);
        }
        const auto at_kill = kernel_routes();
        // In resilient mode a pass writes nexthops and groups first: killed after its first
        // chunk, it may have changed those alone.
        const bool objects_changed = kernel_nexthops() != nexthops_before;
        const auto expected = expected_routes(lab.pods, fates, ips);
        if (fate == PodFate::gone || old_fate == PodFate::gone) {
            ++veth_gone;  // the kernel changed routes itself (a veth went or came)
        } else if (at_kill == expected) {
            ++done;
        } else if (at_kill == before && !objects_changed) {
            ++not_started;
        } else {
            ++mid_pass;
        }
        if (between_chunks) CHECK(((at_kill != before || objects_changed) && at_kill != expected));

        serve = lab.start_serve();
        INFO(lab.log());
        REQUIRE(wait_until([&] { return kernel_routes() == expected; }));
        // ... and no object of ours left over, of a pod gone or a pass cut short.
        CHECK(wait_until([&] { return line_count(kernel_nexthops()) == expected_nexthops(fates, expected.size()); }));
    }
    std::cout << fmt::format(
        "serve crash test: {} kills: {} mid-pass, {} before the pass changed anything, {} after it, "
        "{} while a veth went or came (seed {})\n",
        k_rounds, mid_pass, not_started, done, veth_gone, seed);
    // No route of ours for a pod that is gone, and none at all beyond the expected set.
    CHECK(kernel_routes() == expected_routes(lab.pods, fates, ips));
}
