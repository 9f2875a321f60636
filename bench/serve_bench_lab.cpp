#include "bench/serve_bench_lab.hpp"

#include "common/store/record_json.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace anycast::bench {

namespace {

using test::sh;

std::string veth(int k) { return "sbv" + std::to_string(k); }

// Addresses by index: anycast IPs in 10.192.0.0/10 and fd00:255::/48 (the policy's), pods
// behind veth k in 10.(100+k).0.0/16 and fd10:k::/64.
std::string anycast4(int i) {
    const auto a = static_cast<std::uint32_t>((10u << 24) | (192u << 16)) + static_cast<std::uint32_t>(i) + 1;
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}
std::string anycast6(int i) { return fmt::format("fd00:255::{:x}:{:x}", (i + 1) >> 16, (i + 1) & 0xffff); }
std::string via4(int k, int i) { return fmt::format("10.{}.{}.{}", 100 + k % 100, i / 250 % 250, i % 250 + 2); }
std::string via6(int k, int i) { return fmt::format("fd10:{}::{:x}:{:x}", k, (i + 2) >> 16, (i + 2) & 0xffff); }

// The veth of the k-th pod of anycast IP i: one per pod slot with several pods per IP, else
// spread over all five (like pods on a node, without ten thousand veths).
int veth_of(const Shape& shape, int i, int k) { return shape.hops > 1 ? k : i % shape.veths; }

void write_record(const std::string& state, const common::Record& record) {
    std::ofstream out(state + "/records/" + record.network + "_" + record.container_id + "_" + record.ifname + ".json");
    out << common::serialize_record(record);
    if (!out.flush()) throw std::runtime_error("write a record in " + state);
}

}  // namespace

ServeBenchLab::ServeBenchLab(std::string dir) : dir_(std::move(dir)) {
    {
        std::ofstream links(dir_ + "/links.batch");
        for (int k = 0; k < k_more_veths; ++k) {
            links << "link add " << veth(k) << " up type veth peer name " << veth(k) << "p\n"
                  << "link set " << veth(k) << "p up\n";
        }
    }
    sh("ip link set lo up && ip -batch " + dir_ + "/links.batch");
    for (int k = 0; k < k_veths; ++k) {
        sh(fmt::format("ip addr add 10.{}.0.1/16 dev {} && ip -6 addr add fd10:{}::1/64 dev {} nodad", 100 + k, veth(k),
                       k, veth(k)));
    }
}

std::string ServeBenchLab::write_state(const Shape& shape, const std::string& name) const {
    const std::string state = dir_ + "/" + name;
    std::filesystem::create_directories(state + "/records");
    for (int i = 0; i < shape.ips; ++i) {
        for (int k = 0; k < shape.hops; ++k) {
            const int v = veth_of(shape, i, k);
            test::RecordBuilder builder("k8s", fmt::format("c{}x{}", i, k));
            // /proc/1/ns/net exists: serve's resync sweeps records whose netns is gone.
            builder.netns("/proc/1/ns/net").pod("bench", fmt::format("p{}-{}", i, k)).ip(anycast4(i));
            builder.nexthop(via4(v, i), veth(v));
            if (shape.dual_stack) builder.ip(anycast6(i)).nexthop(via6(v, i), veth(v));
            write_record(state, builder.created("2026-11-24T10:00:00Z").build());
        }
    }
    return state;
}

std::string ServeBenchLab::write_flip_record(const std::string& state) const {
    write_record(state, test::RecordBuilder("k8s", "flip")
                            .netns("/proc/1/ns/net")
                            .pod("bench", "flip")
                            .ip("10.250.0.1")
                            .nexthop("10.100.250.2", veth(0))
                            .created("2026-11-24T10:00:00Z")
                            .build());
    return "10.250.0.1/32";
}

void ServeBenchLab::write_config(const std::string& path, const std::string& state, const std::string& readiness_json,
                                 common::EcmpMode ecmp, bool extra_prefix) const {
    std::ofstream out(path);
    out << R"({"node":"bench","stateDir":")" << state << R"(","policy":{"allowedPrefixes":["10.192.0.0/10")"
        << R"(,"fd00:255::/48")" << (extra_prefix ? R"(,"10.64.0.0/16")" : "")
        << R"(]},"routes":{"protocol":241,"table":241,"rulePriority":1000,"ecmp":")" << common::ecmp_name(ecmp)
        << R"("},"readiness":)" << readiness_json
        << R"(,"bird":{"enabled":false},"metrics":{"listen":""},"logLevel":"debug","resyncSeconds":3600})";
    if (!out.flush()) throw std::runtime_error("write " + path);
}

std::string ServeBenchLab::write_ip_batch(const Shape& shape, const std::string& name) const {
    const std::string path = dir_ + "/" + name + ".batch";
    std::ofstream out(path);
    std::map<std::pair<std::string, int>, int> members;  // (gateway, veth) → object id, as serve shares them
    int next_id = 1;
    const auto member = [&](const std::string& gateway, int v) {
        const auto [at, added] = members.try_emplace({gateway, v}, next_id);
        if (added) {
            out << "nexthop add id " << next_id++ << " via " << gateway << " dev " << veth(v) << " onlink proto 241\n";
        }
        return at->second;
    };
    for (int i = 0; i < shape.ips; ++i) {
        for (const bool v6 :
             shape.dual_stack ? std::initializer_list<bool>{false, true} : std::initializer_list<bool>{false}) {
            const std::string destination = v6 ? anycast6(i) + "/128" : anycast4(i) + "/32";
            std::vector<std::pair<std::string, int>> hops;
            for (int k = 0; k < shape.hops; ++k) {
                const int v = veth_of(shape, i, k);
                hops.emplace_back(v6 ? via6(v, i) : via4(v, i), v);
            }
            if (shape.ecmp == common::EcmpMode::resilient) {
                std::string group;
                for (const auto& [gateway, v] : hops)
                    group += (group.empty() ? "" : "/") + std::to_string(member(gateway, v));
                const int group_id = next_id++;
                out << "nexthop add id " << group_id << " group " << group
                    << " type resilient buckets 128 idle_timer 120 proto 241\n";
                out << "route replace " << destination << " table 241 proto 241 nhid " << group_id << "\n";
            } else if (hops.size() == 1) {
                out << "route replace " << destination << " table 241 proto 241 via " << hops[0].first << " dev "
                    << veth(hops[0].second) << " onlink\n";
            } else {
                out << "route replace " << destination << " table 241 proto 241";
                for (const auto& [gateway, v] : hops)
                    out << " nexthop via " << gateway << " dev " << veth(v) << " onlink";
                out << "\n";
            }
        }
    }
    if (!out.flush()) throw std::runtime_error("write " + path);
    return path;
}

void ServeBenchLab::flush() {
    // Groups first: their routes go with them (flushing those routes first fails, EINVAL).
    sh("ip nexthop flush >/dev/null 2>&1; ip -4 route flush table 241 2>/dev/null; "
       "ip -6 route flush table 241 2>/dev/null; true");
    if (route_count() != 0) throw std::runtime_error("routes left in table 241 after the flush");
}

std::size_t ServeBenchLab::route_count() {
    return std::stoul(
        sh("{ ip -4 -o route show table 241 proto 241; ip -6 -o route show table 241 proto 241; } | wc -l"));
}

double peak_rss_kib(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6));
    }
    return 0;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace anycast::bench
