// serve's figures (issue 5 item 8), each beside a reference or target, in a private network
// namespace (the host is untouched). Printed, not asserted:
//  1. cold pass: 10 000 records, 2 000 distinct IPv4 anycast IPs (5 pods each → 5-hop
//     multipath routes), serve started from nothing until its first pass has installed them
//     (start-up and record parsing included; until its READY=1 notification), beside
//     `ip -batch` of the same routes;
//  2. no-change passes (SIGHUP-triggered) with the same 10 000 records: the pass's CPU time
//     (and wall time) as serve logs it, for a reload of the same config (serve has nothing
//     to compute) and for one that toggles an unused policy prefix (a full resolve + diff), and
//     route events seen by a netlink monitor (must be zero);
//  3. readiness-file change → route withdrawn (and re-added), p50/p99 over 200 flips, timed
//     from just before the file's rename to the route event on a netlink monitor, with the
//     10 000 records still in the store;
//  4. peak RSS (VmHWM) of serve after all that.
#include "common/netlink/monitor.hpp"
#include "common/store/record.hpp"
#include "common/store/record_json.hpp"
#include "test/support/background_process.hpp"
#include "test/support/netns.hpp"
#include "test/support/notify_socket.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/wait_until.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace anycast;
using namespace anycast::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int k_ips = 2000;
constexpr int k_pods_per_ip = 5;
constexpr int k_flips = 200;
// This VM's timings come in modes (either program sometimes runs 40-80 ms slower for a
// while): enough rounds for a median, and the minima beside it.
constexpr int k_rounds = 7;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

std::string anycast_ip(int i) { return "10.255." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }
std::string via(int k, int i) {
    return "10." + std::to_string(100 + k) + "." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2);
}
std::string veth(int k) { return "sbv" + std::to_string(k); }

// `extra_prefix`: a second allowed prefix no record uses; toggling it changes the policy
// (so serve must run the whole pass) without changing any route.
void write_config(const std::string& path, const std::string& state, const std::string& readiness_json,
                  bool extra_prefix = false) {
    std::ofstream(path)
        << R"({"node":"bench","stateDir":")" << state << R"(","policy":{"allowedPrefixes":["10.255.0.0/16")"
        << (extra_prefix ? R"(,"10.254.0.0/16")" : "")
        << R"(]},"routes":{"protocol":241,"table":241,"rulePriority":1000},)"
        << R"("readiness":)" << readiness_json
        << R"(,"bird":{"enabled":false},"metrics":{"listen":""},"logLevel":"debug","resyncSeconds":3600})";
}

common::Record record(int ip_index, int k, const std::string& pod) {
    return RecordBuilder("k8s", "c" + std::to_string(ip_index) + "x" + std::to_string(k))
        .netns("/proc/1/ns/net")  // exists: serve's resync sweeps records whose netns is gone
        .pod("bench", pod)
        .ip(anycast_ip(ip_index))
        .nexthop(via(k, ip_index), veth(k))
        .created("2026-11-24T10:00:00Z")
        .build();
}

// Records written as the store would leave them (docs/architecture.md section 5), without the fsyncs.
void write_record(const std::string& state, const common::Record& r) {
    std::ofstream(state + "/records/" + r.network + "_" + r.container_id + "_" + r.ifname + ".json")
        << common::serialize_record(r);
}

bool wait_for_log(const std::string& path, const std::string& needle, std::size_t n, std::chrono::seconds limit) {
    return wait_until([&] { return count(read_file(path), needle) >= n; }, limit, std::chrono::microseconds(500));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::size_t route_count() { return count(sh("ip -o route show table 241 proto 241"), "\n"); }

// Waits for a route event of table 241 for `destination`; returns false on timeout.
bool wait_route_event(common::netlink::Monitor& monitor, const common::Prefix& destination,
                      common::netlink::RouteEvent::Kind kind) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
        pollfd fd{monitor.fd(), POLLIN, 0};
        if (::poll(&fd, 1, 100) <= 0) continue;
        for (const auto& event : monitor.read_events()) {
            const auto* route = std::get_if<common::netlink::RouteEvent>(&event);
            if (route != nullptr && route->route.table == 241 && route->kind == kind &&
                route->route.destination == destination) {
                return true;
            }
        }
    }
    return false;
}

std::string vm_hwm(pid_t pid) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return line.substr(6);
    }
    return "?";
}

// A field of serve's pass log lines (`us` wall, `cpuUs` CPU of the loop thread), in ms.
std::vector<double> logged_pass_ms(const std::string& log, const std::string& reason, const std::string& field) {
    std::vector<double> out;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("msg=pass") == std::string::npos || line.find("reasons=" + reason) == std::string::npos) continue;
        const auto at = line.find(" " + field + "=");
        if (at != std::string::npos) out.push_back(std::stod(line.substr(at + field.size() + 2)) / 1000.0);
    }
    return out;
}

}  // namespace

int main() {
    PrivateNetns netns;
    TempDir dir("serve-bench");
    for (int k = 0; k < k_pods_per_ip; ++k) {
        make_veth(veth(k), veth(k) + "p");
        sh("ip addr add 10." + std::to_string(100 + k) + ".0.1/16 dev " + veth(k));
    }
    const std::string state = dir.file("state");
    std::filesystem::create_directories(state + "/records");
    for (int i = 0; i < k_ips; ++i) {
        for (int k = 0; k < k_pods_per_ip; ++k)
            write_record(state, record(i, k, "p" + std::to_string(i) + "-" + std::to_string(k)));
    }
    write_config(dir.file("config.json"), state, R"({"source":"always"})");

    // The reference: the same 2 000 five-hop routes through `ip -batch`.
    {
        std::ofstream batch(dir.file("routes.batch"));
        for (int i = 0; i < k_ips; ++i) {
            batch << "route replace " << anycast_ip(i) << "/32 table 241 proto 241";
            for (int k = 0; k < k_pods_per_ip; ++k) batch << " nexthop via " << via(k, i) << " dev " << veth(k);
            batch << "\n";
        }
    }
    std::vector<double> ip_ms, serve_ms;
    std::vector<double> idle_ms, idle_cpu_ms, full_ms, full_cpu_ms;
    std::string rss = "?";
    int idle_events = 0;
    // serve says READY=1 (sd_notify) right after its first pass; waiting on that socket
    // costs nothing while serve works (polling its log did: ~10 ms of a core per start).
    std::optional<NotifySocket> systemd(std::in_place, dir.file("notify.sock"));
    for (int round = 0; round < k_rounds; ++round) {
        sh("ip route flush table 241 2>/dev/null || true");
        auto start = Clock::now();
        run_process({"ip", "-batch", dir.file("routes.batch")});
        ip_ms.push_back(ms_since(start));
        if (route_count() != k_ips) throw std::runtime_error("ip -batch did not install every route");
        sh("ip route flush table 241");

        const std::string log = dir.file("serve" + std::to_string(round) + ".log");
        start = Clock::now();
        BackgroundProcess serve({flock_binary(), "serve", "--config", dir.file("config.json")}, log);
        const auto ready = systemd->receive(std::chrono::seconds(120));
        serve_ms.push_back(ms_since(start));
        if (!ready || ready->rfind("READY=1", 0) != 0)
            throw std::runtime_error("no READY=1 after the first pass: " + log);
        if (route_count() != k_ips) throw std::runtime_error("serve did not install every route: " + log);

        if (round == k_rounds - 1) {
            // No-change passes: each SIGHUP reloads the config and runs a pass. The first 20
            // reload the same config: serve sees its inputs unchanged and computes nothing. The
            // next 20 toggle a policy prefix no record uses: a full pass (resolve 10 000
            // records, diff 2 000 routes against the cached kernel view) that changes nothing.
            common::netlink::Monitor monitor = common::netlink::Monitor::open();
            for (int n = 1; n <= 40; ++n) {
                if (n > 20) write_config(dir.file("config.json"), state, R"({"source":"always"})", n % 2 == 1);
                ::kill(serve.pid(), SIGHUP);
                if (!wait_for_log(log, "reasons=reload", static_cast<std::size_t>(n), std::chrono::seconds(30))) {
                    throw std::runtime_error("no reload pass: " + log);
                }
            }
            write_config(dir.file("config.json"), state, R"({"source":"always"})");
            pollfd fd{monitor.fd(), POLLIN, 0};
            while (::poll(&fd, 1, 50) > 0) {
                for (const auto& event : monitor.read_events())
                    idle_events += std::holds_alternative<common::netlink::RouteEvent>(event);
            }
            const auto wall = logged_pass_ms(read_file(log), "reload", "us");
            const auto cpu = logged_pass_ms(read_file(log), "reload", "cpuUs");
            idle_ms.assign(wall.begin(), wall.begin() + 20);
            idle_cpu_ms.assign(cpu.begin(), cpu.begin() + 20);
            full_ms.assign(wall.begin() + 20, wall.end());
            full_cpu_ms.assign(cpu.begin() + 20, cpu.end());
            rss = vm_hwm(serve.pid());
        }
        serve.stop(SIGTERM);
        while (systemd->receive(std::chrono::milliseconds(0))) {}  // STATUS and STOPPING messages of this round
    }
    systemd.reset();  // the flips below run without a service manager
    sh("ip route flush table 241");

    // Flips: the `file` source; the same 10 000 records (their pods unknown to the file, so
    // each pass still reads and resolves them all) plus one whose pod flips.
    const std::string pods = dir.file("pods.json");
    const auto write_pods = [&](bool ready) {
        std::ofstream(pods + ".tmp") << R"([{"namespace":"bench","name":"flip","ready":)" << (ready ? "true" : "false")
                                     << "}]";
        std::filesystem::rename(pods + ".tmp", pods);
    };
    const std::string flip_state = dir.file("flip-state");
    std::filesystem::create_directories(flip_state + "/records");
    for (int i = 0; i < k_ips; ++i) {
        for (int k = 0; k < k_pods_per_ip; ++k)
            write_record(flip_state, record(i, k, "p" + std::to_string(i) + "-" + std::to_string(k)));
    }
    auto flip_record = record(k_ips + 10, 0, "flip");
    write_record(flip_state, flip_record);
    write_pods(true);
    write_config(dir.file("flip.json"), flip_state, R"({"source":"file","file":")" + pods + "\"}");
    std::vector<double> withdraw_ms, add_ms;
    {
        const auto destination = common::Prefix::host(flip_record.ips[0]);
        common::netlink::Monitor monitor = common::netlink::Monitor::open();
        BackgroundProcess serve({flock_binary(), "serve", "--config", dir.file("flip.json")}, dir.file("flip.log"));
        if (!wait_route_event(monitor, destination, common::netlink::RouteEvent::Kind::added)) {
            throw std::runtime_error("flip route never installed: " + dir.file("flip.log"));
        }
        for (int i = 0; i < k_flips; ++i) {
            auto start = Clock::now();
            write_pods(false);
            if (!wait_route_event(monitor, destination, common::netlink::RouteEvent::Kind::deleted))
                throw std::runtime_error("no withdraw");
            withdraw_ms.push_back(ms_since(start));
            start = Clock::now();
            write_pods(true);
            if (!wait_route_event(monitor, destination, common::netlink::RouteEvent::Kind::added))
                throw std::runtime_error("no add");
            add_ms.push_back(ms_since(start));
        }
        if (rss == "?") rss = vm_hwm(serve.pid());
    }

    std::printf("serve benchmark (%d records, %d IPv4 anycast IPs x %d hops; median of %d rounds)\n",
                k_ips * k_pods_per_ip, k_ips, k_pods_per_ip, k_rounds);
    const double cold = median(serve_ms), ref = median(ip_ms);
    const double cold_min = *std::min_element(serve_ms.begin(), serve_ms.end());
    const double ref_min = *std::min_element(ip_ms.begin(), ip_ms.end());
    std::printf(
        "  cold pass, start-up included : %8.1f ms   ip -batch same routes: %8.1f ms   ratio %.2f (target <= 1.2)\n",
        cold, ref, cold / ref);
    std::printf("    the fastest of each         : %8.1f ms                          %8.1f ms   ratio %.2f\n", cold_min,
                ref_min, cold_min / ref_min);
    std::string rounds;
    for (std::size_t i = 0; i < serve_ms.size(); ++i) rounds += fmt::format(" {:.0f}/{:.0f}", serve_ms[i], ip_ms[i]);
    std::printf("    each round (serve/ip ms)    :%s\n", rounds.c_str());
    const auto max_of = [](const std::vector<double>& v) {
        return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
    };
    std::printf(
        "  no-change pass (SIGHUP), %zu  : CPU p50 %6.2f ms  max %6.2f ms (target < 5 ms); wall p50 %6.2f ms"
        "  (inputs unchanged: nothing computed)\n",
        idle_cpu_ms.size(), idle_cpu_ms.empty() ? 0.0 : median(idle_cpu_ms), max_of(idle_cpu_ms),
        idle_ms.empty() ? 0.0 : median(idle_ms));
    std::printf(
        "  no-change full pass, %zu      : CPU p50 %6.2f ms  max %6.2f ms (target < 5 ms); wall p50 %6.2f ms"
        "  (policy toggled: resolve + diff)\n",
        full_cpu_ms.size(), full_cpu_ms.empty() ? 0.0 : median(full_cpu_ms), max_of(full_cpu_ms),
        full_ms.empty() ? 0.0 : median(full_ms));
    std::printf("  route events seen during those 40 passes: %d (target 0)\n", idle_events);
    std::printf("  readiness flip -> withdrawn  : p50 %6.2f ms  p99 %6.2f ms over %d flips (target p99 < 5 ms)\n",
                percentile(withdraw_ms, 0.5), percentile(withdraw_ms, 0.99), k_flips);
    std::printf("  readiness flip -> re-added   : p50 %6.2f ms  p99 %6.2f ms\n", percentile(add_ms, 0.5),
                percentile(add_ms, 0.99));
    std::printf("  peak RSS of serve (VmHWM)    : %s (target < 12 MiB)\n", rss.c_str());
    return 0;
}
