// serve's cold pass, no-change passes, peak RSS and growth (issues 5 and 20), in a private
// network namespace (the host is untouched). Result lines for bench/run.sh; nothing asserted.
//  1. cold pass, three shapes (10 000 records × one IPv4 anycast IP; × an IPv4 and an IPv6;
//     2 000 IPs × 5 pods): serve started from nothing until its READY=1 (sd_notify, right
//     after its first pass: start-up and record reading included), beside `ip -batch` of the
//     same kernel objects (serve's default resilient mode: a nexthop object per pod hop, a
//     resilient group per route, the route naming it), interleaved, median of the rounds;
//  2. no-change passes with 10 000 records (the dual-stack shape, 20 000 routes): 20 SIGHUPs
//     reloading the same config (serve sees its inputs unchanged) and 20 toggling a policy
//     prefix no record uses (a full resolve + diff that changes nothing); netlink requests
//     and CPU as serve logs them per pass, route events seen by a monitor;
//  3. peak RSS (VmHWM) of serve with those 20 000 routes after all that;
//  4. growth: cold pass and peak RSS at 1 000, 10 000 and 100 000 records (one IPv4 each,
//     multipath mode: plain routes, since 100 000 resilient groups took the kernel 8 s and
//     1.3 GB to make and 3 minutes to flush; spread over 500 veths, see Shape::veths),
//     fitted exponent of each (log-log least squares).
#include "bench/bench_report.hpp"
#include "bench/serve_bench_lab.hpp"
#include "common/netlink/monitor.hpp"
#include "test/support/background_process.hpp"
#include "test/support/netns.hpp"
#include "test/support/notify_socket.hpp"
#include "test/support/process.hpp"
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
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

using namespace anycast;
using namespace anycast::bench;
using Clock = std::chrono::steady_clock;

namespace {

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

// A numeric field of serve's pass log lines with `reasons=<reason>` (`us`, `cpuUs`, `netlinkSends`).
std::vector<double> logged_pass_field(const std::string& log, const std::string& reason, const std::string& field) {
    std::vector<double> out;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("msg=pass") == std::string::npos || line.find("reasons=" + reason) == std::string::npos) continue;
        const auto at = line.find(" " + field + "=");
        if (at == std::string::npos) throw std::runtime_error("pass line without " + field + ": " + line);
        out.push_back(std::stod(line.substr(at + field.size() + 2)));
    }
    return out;
}

struct ColdFigures {
    std::vector<double> serve_ms, ip_ms, rss_kib;
};

// `rounds` cold passes of serve beside `ip -batch`, alternating which goes first. `last_round`
// runs while the last round's serve is still up (its pid and log).
ColdFigures cold_passes(const ServeBenchLab& lab, const Shape& shape, const std::string& tag, int rounds,
                        const std::function<void(test::BackgroundProcess&, const std::string&)>& last_round = {}) {
    const std::string state = lab.write_state(shape, tag);
    const std::string config = lab.dir() + "/" + tag + ".json";
    lab.write_config(config, state, R"({"source":"always"})", shape.ecmp);
    const std::string batch = lab.write_ip_batch(shape, tag);
    const auto expected = static_cast<std::size_t>(shape.routes());
    ColdFigures figures;
    // serve says READY=1 right after its first pass; waiting on that socket costs nothing
    // while serve works (polling its log did: ~10 ms of a core per start).
    test::NotifySocket systemd(lab.dir() + "/notify.sock");
    const auto run_ip = [&] {
        ServeBenchLab::flush();
        const auto start = Clock::now();
        test::ProcessOptions options;
        options.timeout_seconds = 600;  // 100 000 routes on a loaded machine
        test::run_process({"ip", "-batch", batch}, options);
        figures.ip_ms.push_back(ms_since(start));
        if (ServeBenchLab::route_count() != expected) throw std::runtime_error("ip -batch did not install every route");
    };
    for (int round = 0; round < rounds; ++round) {
        if (round % 2 == 1) run_ip();
        ServeBenchLab::flush();
        const std::string log = lab.dir() + "/" + tag + "-serve" + std::to_string(round) + ".log";
        const auto start = Clock::now();
        test::BackgroundProcess serve({test::flock_binary(), "serve", "--config", config}, log);
        const auto ready = systemd.receive(std::chrono::seconds(300));
        figures.serve_ms.push_back(ms_since(start));
        if (!ready || ready->rfind("READY=1", 0) != 0)
            throw std::runtime_error("no READY=1 after the first pass: " + log);
        figures.rss_kib.push_back(peak_rss_kib(serve.pid()));
        if (ServeBenchLab::route_count() != expected)
            throw std::runtime_error("serve did not install every route: " + log);
        if (round == rounds - 1 && last_round) last_round(serve, log);
        serve.stop(SIGTERM);
        while (systemd.receive(std::chrono::milliseconds(0))) {}  // this round's STATUS and STOPPING
        if (round % 2 == 0) run_ip();
    }
    ServeBenchLab::flush();
    print_rounds(shape.name + ": serve cold pass", figures.serve_ms);
    print_rounds(shape.name + ": ip -batch", figures.ip_ms);
    print_rounds(shape.name + ": serve peak RSS", figures.rss_kib, "KiB");
    return figures;
}

std::string ms(double v) { return fmt::format("{:.1f} ms", v); }
std::string mib(double kib) { return fmt::format("{:.1f} MiB", kib / 1024); }

void report_cold(const Shape& shape, const ColdFigures& figures) {
    const double ours = median(figures.serve_ms), floor = median(figures.ip_ms);
    result(fmt::format("serve cold pass to READY=1, {} (median of {})", shape.name, figures.serve_ms.size()), ms(ours),
           ms(floor) + " (ip -batch)", ours / floor, "<= 1.0 x", met(ours <= floor));
}

// 40 SIGHUP passes, then the route events the monitor saw.
struct NoChange {
    std::vector<double> same_cpu_ms, same_sends, toggled_cpu_ms, toggled_sends;
    int route_events = 0;
};

NoChange no_change_passes(const ServeBenchLab& lab, const std::string& tag, test::BackgroundProcess& serve,
                          const std::string& log) {
    const std::string config = lab.dir() + "/" + tag + ".json";
    const std::string state = lab.dir() + "/" + tag;
    auto monitor = common::netlink::Monitor::open();
    for (int n = 1; n <= 40; ++n) {
        if (n > 20) lab.write_config(config, state, R"({"source":"always"})", common::EcmpMode::resilient, n % 2 == 1);
        ::kill(serve.pid(), SIGHUP);
        const bool passed = test::wait_until([&] { return count(read_file(log), "reasons=reload") >= std::size_t(n); },
                                             std::chrono::seconds(30), std::chrono::microseconds(500));
        if (!passed) throw std::runtime_error("no reload pass: " + log);
    }
    lab.write_config(config, state, R"({"source":"always"})", common::EcmpMode::resilient);
    NoChange figures;
    pollfd fd{monitor.fd(), POLLIN, 0};
    while (::poll(&fd, 1, 50) > 0) {
        for (const auto& event : monitor.read_events())
            figures.route_events += std::holds_alternative<common::netlink::RouteEvent>(event);
    }
    const std::string text = read_file(log);
    const auto cpu = logged_pass_field(text, "reload", "cpuUs");
    const auto sends = logged_pass_field(text, "reload", "netlinkSends");
    if (cpu.size() != 40 || sends.size() != 40) throw std::runtime_error("expected 40 reload passes: " + log);
    for (int i = 0; i < 40; ++i) {
        (i < 20 ? figures.same_cpu_ms : figures.toggled_cpu_ms).push_back(cpu[i] / 1000);
        (i < 20 ? figures.same_sends : figures.toggled_sends).push_back(sends[i]);
    }
    print_rounds("no-change pass CPU (same config)", figures.same_cpu_ms);
    print_rounds("no-change pass CPU (policy toggled)", figures.toggled_cpu_ms);
    return figures;
}

double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

}  // namespace

int main() try {
    const int n_rounds = rounds(5, 3);
    test::PrivateNetns netns;
    test::TempDir dir("serve-bench", "/dev/shm");  // tmpfs, like a node's /run
    ServeBenchLab lab(dir.path());
    std::printf("serve benchmark: %d rounds per shape (load average %s)\n", n_rounds,
                test::sh("cut -d' ' -f1-3 /proc/loadavg | tr -d '\\n'").c_str());

    const Shape v4{"10 000 records x 1 IPv4", 10000, 1, false};
    const Shape dual{"10 000 records x (IPv4 + IPv6)", 10000, 1, true};
    const Shape hops{"2 000 IPs x 5 hops", 2000, 5, false};
    report_cold(v4, cold_passes(lab, v4, "v4", n_rounds));
    std::filesystem::remove_all(dir.file("v4"));

    NoChange idle;
    double dual_rss_kib = 0;
    const ColdFigures dual_figures =
        cold_passes(lab, dual, "dual", n_rounds, [&](test::BackgroundProcess& serve, const std::string& log) {
            idle = no_change_passes(lab, "dual", serve, log);
            dual_rss_kib = peak_rss_kib(serve.pid());
        });
    report_cold(dual, dual_figures);
    std::filesystem::remove_all(dir.file("dual"));
    report_cold(hops, cold_passes(lab, hops, "hops", n_rounds));
    std::filesystem::remove_all(dir.file("hops"));

    const double sends = std::max(max_of(idle.same_sends), max_of(idle.toggled_sends));
    result("no-change pass, 10 000 records: netlink requests per pass (max of 40) / route events",
           fmt::format("{:.0f} / {}", sends, idle.route_events), "", 0, "0", met(sends == 0 && idle.route_events == 0));
    const double same_cpu = median(idle.same_cpu_ms);
    result("no-change pass CPU, 10 000 records, inputs unchanged (p50 of 20)",
           fmt::format("{:.3f} ms (max {:.3f})", same_cpu, max_of(idle.same_cpu_ms)), "", 0, "< 1 ms",
           met(same_cpu < 1.0));
    const double toggled_cpu = median(idle.toggled_cpu_ms);
    result("no-change pass CPU, 10 000 records, policy toggled: resolve + diff (p50 of 20)",
           fmt::format("{:.3f} ms (max {:.3f})", toggled_cpu, max_of(idle.toggled_cpu_ms)), "", 0, "< 1 ms",
           met(toggled_cpu < 1.0));
    result("peak RSS of serve, 20 000 routes (10 000 records, v4 + v6), after the no-change passes", mib(dual_rss_kib),
           "", 0, "< 12 MiB", met(dual_rss_kib < 12 * 1024));

    // Growth: the same shape at three sizes.
    std::vector<double> sizes, cold_ms, rss_kib;
    for (const int n : {1000, 10000, 100000}) {
        const Shape shape{fmt::format("{} records x 1 IPv4, multipath, 500 veths", n),
                          n,
                          1,
                          false,
                          common::EcmpMode::multipath,
                          ServeBenchLab::k_more_veths};
        const std::string tag = "growth" + std::to_string(n);
        const ColdFigures figures = cold_passes(lab, shape, tag, n == 100000 ? std::min(n_rounds, 3) : n_rounds);
        std::filesystem::remove_all(dir.file(tag));
        sizes.push_back(n);
        cold_ms.push_back(median(figures.serve_ms));
        rss_kib.push_back(median(figures.rss_kib));
        std::printf("  growth %6d records: cold pass %.1f ms (ip -batch %.1f ms), peak RSS %.1f MiB\n", n,
                    cold_ms.back(), median(figures.ip_ms), rss_kib.back() / 1024);
    }
    const double cold_k = fitted_exponent(sizes, cold_ms), rss_k = fitted_exponent(sizes, rss_kib);
    result("growth of the cold pass, 1 k / 10 k / 100 k records: fitted exponent",
           fmt::format("{:.2f} ({:.0f} / {:.0f} / {:.0f} ms)", cold_k, cold_ms[0], cold_ms[1], cold_ms[2]), "", 0,
           "<= 1.05 (linear)", met(cold_k <= 1.05));
    result("growth of peak RSS, 1 k / 10 k / 100 k records: fitted exponent",
           fmt::format("{:.2f} ({:.1f} / {:.1f} / {:.1f} MiB)", rss_k, rss_kib[0] / 1024, rss_kib[1] / 1024,
                       rss_kib[2] / 1024),
           "", 0, "<= 1.05 (linear)", met(rss_k <= 1.05));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: %s\n", e.what());
    return 1;
}
