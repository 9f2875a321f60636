// CNI ADD/DEL wall time: flock-anycast (chained, with a prevResult, one IPv4 and one IPv6
// anycast IP) beside Debian's Go `loopback` plugin, both exec'd the way a runtime does, in
// the same run and interleaved so machine load hits both alike. Prints the medians and the
// ratios; the target (issue 20) is <= 1.15 x the C floor below. flock-anycast's ADD and DEL each fsync the record
// store, so it is measured twice: state dir on tmpfs (/dev/shm; like /run on a node) and on the disk that holds
// /var/tmp. Two floors beside them: an exec of /bin/true, and cni_syscalls_floor, a C program making only the system
// calls flock-anycast's ADD and DEL make (state on tmpfs). Needs root; runs in its own network namespace, so the host
// is untouched.
//
// Usage: cni_bench [iterations [binary...]]   (default 60, at least 60); RESULT lines for bench/run.sh.
// Each extra binary (another build of flock-anycast: a link variant) is measured in the same
// interleaved run, state on tmpfs, and printed beside the floors; the targets' RESULT lines stay
// the built executable's, each variant gets two "report" lines named after its file (bench/run.sh
// passes Debian's default link, glibc and libmnl shared, for readers).
#include "bench/bench_report.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace anycast::test;

namespace {

constexpr const char* k_loopback = "/usr/lib/cni/loopback";

double cpu_ms_of_children() {
    struct rusage usage {};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

struct Sample {
    double wall_ms;
    double cpu_ms;  // user + sys of the plugin process: robust when the machine is loaded
};

Sample run_once(const std::string& binary, const std::map<std::string, std::string>& env, const std::string& config) {
    const double cpu_before = cpu_ms_of_children();
    const auto start = std::chrono::steady_clock::now();
    const auto result = run_process({binary}, {.env = env, .stdin_text = config, .timeout_seconds = 30});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (result.exit_code != 0) {
        throw std::runtime_error(binary + " " + env.at("CNI_COMMAND") + " failed: " + result.out + result.err);
    }
    return {ms, cpu_ms_of_children() - cpu_before};
}

std::string fs_type(const std::string& path) {
    struct statfs st {};
    if (::statfs(path.c_str(), &st) != 0) return "?";
    return st.f_type == 0x01021994 ? "tmpfs" : st.f_type == 0xEF53 ? "ext4" : "other";
}

struct Series {
    std::vector<double> add, del, add_cpu, del_cpu;
    void record(const Sample& add_sample, const Sample& del_sample) {
        add.push_back(add_sample.wall_ms);
        del.push_back(del_sample.wall_ms);
        add_cpu.push_back(add_sample.cpu_ms);
        del_cpu.push_back(del_sample.cpu_ms);
    }
};

}  // namespace

using anycast::bench::median;

int main(int argc, char** argv) try {
    const int iterations = std::max(60, argc > 1 ? std::atoi(argv[1]) : 60);
    const std::vector<std::string> variants(argv + std::min(argc, 2), argv + argc);
    PrivateNetns node;
    NamedNetns pod("bench");
    const std::string host_end = unique_name("bh");
    const std::string peer = unique_name("bp");
    make_veth(host_end, peer, pod.name());
    sh("ip addr add 10.79.0.1/24 dev " + host_end + " && ip addr add fd79::1/64 dev " + host_end + " nodad");
    pod.exec("ip addr add 10.79.0.2/24 dev " + peer + " && ip addr add fd79::2/64 dev " + peer + " nodad");

    const std::string prev = R"({"cniVersion":"1.0.0","interfaces":[{"name":")" + peer + R"(","sandbox":")" +
                             pod.path() +
                             R"("}],"ips":[{"address":"10.79.0.2/24","interface":0},)"
                             R"({"address":"fd79::2/64","interface":0}]})";
    // A scratch directory on each filesystem measured; the plugin makes its state dir inside.
    const TempDir on_tmpfs("cni-bench", "/dev/shm"), on_disk("cni-bench", "/var/tmp");
    const std::vector<std::string> state_dirs = {on_tmpfs.file("state"), on_disk.file("state")};
    const auto flock_config = [&](const std::string& state_dir) {
        return R"({"cniVersion":"1.0.0","name":"bench","type":"flock-anycast","stateDir":")" + state_dir +
               R"(","policy":{"allowedPrefixes":["10.255.0.0/16","fd00:255::/48"]},)"
               R"("runtimeConfig":{"anycastIPs":["10.255.53.53","fd00:255::53"]},"prevResult":)" +
               prev + "}";
    };
    const std::string loopback_config = R"({"cniVersion":"1.0.0","name":"lo","type":"loopback"})";
    std::map<std::string, std::string> env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                                              {"CNI_PATH", "/usr/lib/cni"},
                                              {"CNI_CONTAINERID", "bench1"},
                                              {"CNI_NETNS", pod.path()},
                                              {"CNI_IFNAME", "eth0"}};
    auto lo_env = env;
    lo_env["CNI_IFNAME"] = "lo";

    std::vector<Series> ours(state_dirs.size());
    std::vector<Series> of_variants(variants.size());
    Series reference;
    Series floor;     // exec of /bin/true: what any plugin pays before doing anything
    Series syscalls;  // cni_syscalls_floor: what any plugin doing this job pays at least
    auto floor_env = env;
    const TempDir floor_state("cni-bench-floor", "/dev/shm");
    floor_env["FLOOR_STATE_DIR"] = floor_state.path();
    // Warm-up (page cache, first directory creation), not counted.
    for (int i = -3; i < iterations; ++i) {
        // Before the state on disk, whose journal commit may still run after its DEL.
        for (std::size_t v = 0; v < variants.size(); ++v) {
            env["CNI_COMMAND"] = "ADD";
            const Sample add = run_once(variants[v], env, flock_config(state_dirs[0]));
            env["CNI_COMMAND"] = "DEL";
            const Sample del = run_once(variants[v], env, flock_config(state_dirs[0]));
            if (i >= 0) of_variants[v].record(add, del);
        }
        for (std::size_t d = 0; d < state_dirs.size(); ++d) {
            env["CNI_COMMAND"] = "ADD";
            const Sample add = run_once(flock_binary(), env, flock_config(state_dirs[d]));
            env["CNI_COMMAND"] = "DEL";
            const Sample del = run_once(flock_binary(), env, flock_config(state_dirs[d]));
            if (i >= 0) ours[d].record(add, del);
        }
        lo_env["CNI_COMMAND"] = "ADD";
        const Sample add = run_once(k_loopback, lo_env, loopback_config);
        lo_env["CNI_COMMAND"] = "DEL";
        const Sample del = run_once(k_loopback, lo_env, loopback_config);
        if (i >= 0) reference.record(add, del);
        const Sample true_add = run_once("/bin/true", lo_env, loopback_config);
        const Sample true_del = run_once("/bin/true", lo_env, loopback_config);
        if (i >= 0) floor.record(true_add, true_del);
        floor_env["CNI_COMMAND"] = "ADD";
        const Sample syscalls_add = run_once(CNI_SYSCALLS_FLOOR, floor_env, flock_config(state_dirs[0]));
        floor_env["CNI_COMMAND"] = "DEL";
        const Sample syscalls_del = run_once(CNI_SYSCALLS_FLOOR, floor_env, flock_config(state_dirs[0]));
        if (i >= 0) syscalls.record(syscalls_add, syscalls_del);
    }

    const auto report = [&](const char* what, const Series& series) {
        std::printf("  %-40s wall ADD %7.3f  DEL %7.3f   cpu ADD %6.3f  DEL %6.3f", what, median(series.add),
                    median(series.del), median(series.add_cpu), median(series.del_cpu));
        if (&series != &reference) {
            std::printf("   ratio wall ADD %.2fx DEL %.2fx, cpu ADD %.2fx DEL %.2fx",
                        median(series.add) / median(reference.add), median(series.del) / median(reference.del),
                        median(series.add_cpu) / median(reference.add_cpu),
                        median(series.del_cpu) / median(reference.del_cpu));
        }
        std::printf("\n");
    };
    std::printf("CNI exec time, median of %d each (ms; cpu = user+sys of the plugin), same run, interleaved\n",
                iterations);
    report("Debian loopback (Go, reference)", reference);
    report("/bin/true (exec floor)", floor);
    report("the same syscalls alone (C, tmpfs)", syscalls);
    for (std::size_t d = 0; d < state_dirs.size(); ++d) {
        const std::string label =
            "flock-anycast, state on " + fs_type(std::filesystem::path(state_dirs[d]).parent_path());
        report(label.c_str(), ours[d]);
    }
    for (std::size_t v = 0; v < variants.size(); ++v) {
        report(std::filesystem::path(variants[v]).filename().c_str(), of_variants[v]);
        std::printf("  %-40s ratio to the C floor: wall ADD %.2fx DEL %.2fx\n", "",
                    median(of_variants[v].add) / median(syscalls.add),
                    median(of_variants[v].del) / median(syscalls.del));
    }
    double load[3] = {};
    if (::getloadavg(load, 3) > 0) std::printf("load average during the run: %.2f\n", load[0]);
    if (anycast::bench::verbose()) {
        anycast::bench::print_rounds("flock-anycast ADD, tmpfs", ours[0].add);
        anycast::bench::print_rounds("C floor ADD", syscalls.add);
        anycast::bench::print_rounds("flock-anycast DEL, tmpfs", ours[0].del);
        anycast::bench::print_rounds("C floor DEL", syscalls.del);
    }

    // The table's rows: state on tmpfs like the floor's (a node's /run).
    const auto ms = [](double v) { return fmt::format("{:.3f} ms", v); };
    const auto row = [&](const std::string& figure, const std::vector<double>& ours_ms,
                         const std::vector<double>& floor_ms, const std::string& target) {
        const double a = median(ours_ms), b = median(floor_ms);
        const bool has_target = target != "report";
        anycast::bench::result(figure, ms(a), ms(b), a / b, has_target ? "<= 1.15 x" : "report",
                               has_target ? anycast::bench::met(a <= 1.15 * b) : "report");
    };
    const std::string n = std::to_string(iterations);
    row("CNI ADD wall, median of " + n + " interleaved (floor: C, same syscalls)", ours[0].add, syscalls.add, "");
    row("CNI DEL wall, median of " + n + " interleaved (floor: C, same syscalls)", ours[0].del, syscalls.del, "");
    row("CNI ADD CPU (floor: C, same syscalls)", ours[0].add_cpu, syscalls.add_cpu, "report");
    row("CNI DEL CPU (floor: C, same syscalls)", ours[0].del_cpu, syscalls.del_cpu, "report");
    row("CNI ADD wall beside Debian's Go loopback", ours[0].add, reference.add, "report");
    row("CNI DEL wall beside Debian's Go loopback", ours[0].del, reference.del, "report");
    row("exec of /bin/true beside the C floor, ADD", floor.add, syscalls.add, "report");
    for (std::size_t v = 0; v < variants.size(); ++v) {
        const std::string name = std::filesystem::path(variants[v]).filename();
        row("CNI ADD wall of " + name + ", for readers (floor: C)", of_variants[v].add, syscalls.add, "report");
        row("CNI DEL wall of " + name + ", for readers (floor: C)", of_variants[v].del, syscalls.del, "report");
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "cni_bench: %s\n", e.what());
    return 1;
}
