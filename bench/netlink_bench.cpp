// Netlink layer throughput: 10 000 IPv4 /32 and 10 000 IPv6 /128 routes (half of them
// multipath over two veths) installed in one batched transaction, read back and deleted,
// beside the same routes through `ip -batch` in the same run; and a no-op re-apply (dump,
// diff, zero writes). Needs root; makes its own network namespace, so the host is untouched.
#include "bench/bench_report.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/route_changes.hpp"
#include "common/netlink/socket.hpp"
#include "common/netlink/link.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nl = anycast::common::netlink;
using anycast::common::IpAddress;
using anycast::common::Prefix;
using anycast::test::sh;

namespace {

constexpr int k_per_family = 10000;

constexpr int k_protocol = 241;
constexpr std::uint32_t k_table = 241;

struct Lab {
    std::string a = "benchva";
    std::string b = "benchvb";
    int index_a = 0;
    int index_b = 0;
};

double since_ms(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

IpAddress ip(const std::string& text) {
    auto parsed = IpAddress::parse(text);
    if (!parsed) throw std::invalid_argument(text);
    return *parsed;
}

// Route i of the family; odd ones are multipath over both veths.
std::vector<nl::Route> make_routes(const Lab& lab) {
    std::vector<nl::Route> routes;
    for (int i = 0; i < k_per_family; ++i) {
        const std::string v4 = "10.200." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        const std::string v6 = "fd00:200::" + std::to_string(i / 10000) + ":" + std::to_string(i % 10000);
        for (const bool is_v4 : {true, false}) {
            std::vector<nl::NextHop> hops{{ip(is_v4 ? "10.99.1.2" : "fd00:99:1::2"), lab.index_a}};
            if (i % 2 == 1) hops.push_back({ip(is_v4 ? "10.99.2.2" : "fd00:99:2::2"), lab.index_b});
            std::sort(hops.begin(), hops.end());
            routes.push_back(nl::Route{Prefix::host(ip(is_v4 ? v4 : v6)), hops, k_protocol, k_table});
        }
    }
    return routes;
}

std::string name_of(const Lab& lab, int ifindex) { return ifindex == lab.index_a ? lab.a : lab.b; }

// The same routes as `ip -batch` lines.
void write_batch(const Lab& lab, const std::vector<nl::Route>& routes, const std::string& verb,
                 const std::string& path) {
    std::ofstream out(path);
    for (const auto& route : routes) {
        out << "route " << verb << " " << route.destination.to_string() << " proto " << k_protocol << " table "
            << k_table;
        if (verb == "replace") {
            if (route.hops.size() == 1) {
                out << " via " << route.hops[0].gateway.to_string() << " dev " << name_of(lab, route.hops[0].ifindex);
            } else {
                for (const auto& hop : route.hops) {
                    out << " nexthop via " << hop.gateway.to_string() << " dev " << name_of(lab, hop.ifindex);
                }
            }
        }
        out << "\n";
    }
    if (!out.flush()) throw std::runtime_error("write " + path);
}

std::size_t count_ip_routes() {
    const std::string v4 = sh("ip -4 route show table 241 | grep -c '^10\\.200\\.' || true");
    const std::string v6 = sh("ip -6 route show table 241 | grep -c '^fd00:200:' || true");
    return std::stoul(v4) + std::stoul(v6);
}

struct Figures {
    double install = 0, read = 0, remove = 0;
};

Figures run_ours(nl::Socket& socket, const std::vector<nl::Route>& routes, std::size_t& reapply_changes,
                 std::uint64_t& reapply_sends, double& reapply_ms) {
    Figures figures;
    std::vector<nl::RouteChange> changes;
    for (const auto& route : routes) changes.push_back({nl::RouteChange::Kind::replace, route});
    auto start = std::chrono::steady_clock::now();
    auto results = nl::apply_route_changes(socket, changes);
    figures.install = since_ms(start);
    if (std::count(results.begin(), results.end(), 0) != static_cast<long>(routes.size())) {
        throw std::runtime_error("ours: not every route was installed");
    }

    start = std::chrono::steady_clock::now();
    const auto installed = nl::dump_routes(socket, k_table, k_protocol);
    figures.read = since_ms(start);
    if (installed.size() != routes.size())
        throw std::runtime_error("ours: read back " + std::to_string(installed.size()));

    // A no-op re-apply: dump, diff against the same desired set, apply what differs.
    start = std::chrono::steady_clock::now();
    const auto current = nl::dump_routes(socket, k_table, k_protocol);
    const auto sends_before = socket.send_count();  // writes only, not the dump requests
    const auto diff = nl::diff_routes(current, routes);
    if (!diff.empty()) nl::apply_route_changes(socket, diff);
    reapply_ms = since_ms(start);
    reapply_changes = diff.size();
    reapply_sends = socket.send_count() - sends_before;

    for (auto& change : changes) change.kind = nl::RouteChange::Kind::remove;
    start = std::chrono::steady_clock::now();
    results = nl::apply_route_changes(socket, changes);
    figures.remove = since_ms(start);
    if (std::count(results.begin(), results.end(), 0) != static_cast<long>(routes.size())) {
        throw std::runtime_error("ours: not every route was deleted");
    }
    return figures;
}

Figures run_ip(const Lab& lab, const std::vector<nl::Route>& routes, const std::string& dir) {
    Figures figures;
    write_batch(lab, routes, "replace", dir + "/install");
    write_batch(lab, routes, "del", dir + "/delete");
    auto start = std::chrono::steady_clock::now();
    sh("ip -batch " + dir + "/install");
    figures.install = since_ms(start);

    start = std::chrono::steady_clock::now();
    sh("ip -4 route show table 241 proto 241 >/dev/null && ip -6 route show table 241 proto 241 >/dev/null");
    figures.read = since_ms(start);
    if (count_ip_routes() != routes.size()) throw std::runtime_error("ip -batch: wrong route count");

    start = std::chrono::steady_clock::now();
    sh("ip -batch " + dir + "/delete");
    figures.remove = since_ms(start);
    if (count_ip_routes() != 0) throw std::runtime_error("ip -batch: routes left after delete");
    return figures;
}

}  // namespace

using anycast::bench::median;

int main() {
    try {
        if (::unshare(CLONE_NEWNET) != 0) {
            std::perror("unshare(CLONE_NEWNET) (run as root)");
            return 1;
        }
        Lab lab;
        sh("ip link set lo up");
        sh("ip link add " + lab.a + " type veth peer name " + lab.a + "p && ip link add " + lab.b +
           " type veth peer name " + lab.b + "p");
        sh("ip link set " + lab.a + " up && ip link set " + lab.a + "p up && ip link set " + lab.b +
           " up && ip link set " + lab.b + "p up");
        sh("ip addr add 10.99.1.1/24 dev " + lab.a + " && ip addr add 10.99.2.1/24 dev " + lab.b);
        sh("ip -6 addr add fd00:99:1::1/64 dev " + lab.a + " nodad && ip -6 addr add fd00:99:2::1/64 dev " + lab.b +
           " nodad");
        auto socket = nl::Socket::open();
        lab.index_a = nl::find_link(socket, lab.a)->index;
        lab.index_b = nl::find_link(socket, lab.b)->index;
        const auto routes = make_routes(lab);

        const anycast::test::TempDir dir("netlink-bench");

        std::vector<double> ours_install, ours_read, ours_remove, ip_install, ip_read, ip_remove, reapply;
        std::size_t reapply_changes = 0;
        std::uint64_t reapply_sends = 0;
        const int k_rounds = anycast::bench::rounds(3, 3);
        for (int round = 0; round < k_rounds; ++round) {
            double reapply_ms = 0;
            const auto ours = run_ours(socket, routes, reapply_changes, reapply_sends, reapply_ms);
            const auto theirs = run_ip(lab, routes, dir.path());
            ours_install.push_back(ours.install);
            ours_read.push_back(ours.read);
            ours_remove.push_back(ours.remove);
            ip_install.push_back(theirs.install);
            ip_read.push_back(theirs.read);
            ip_remove.push_back(theirs.remove);
            reapply.push_back(reapply_ms);
        }

        std::printf(
            "netlink bench: %d IPv4 /32 + %d IPv6 /128 routes, half multipath over 2 veths; median of %d rounds\n",
            k_per_family, k_per_family, k_rounds);
        std::printf("%-12s %12s %14s %8s\n", "", "ours (ms)", "ip -batch (ms)", "ratio");
        auto row = [](const char* what, double ours, double theirs) {
            std::printf("%-12s %12.1f %14.1f %8.2f\n", what, ours, theirs, ours / theirs);
        };
        row("install", median(ours_install), median(ip_install));
        row("read back", median(ours_read), median(ip_read));
        row("delete", median(ours_remove), median(ip_remove));
        std::printf("no-op re-apply (dump + diff): %.1f ms, %zu changes, %llu writes\n", median(reapply),
                    reapply_changes, static_cast<unsigned long long>(reapply_sends));
        const bool ok = median(ours_install) <= 1.2 * median(ip_install) &&
                        median(ours_remove) <= 1.2 * median(ip_remove) && reapply_changes == 0 && reapply_sends == 0;
        std::printf("target (install and delete <= 1.2 x ip -batch, re-apply 0 writes): %s\n", ok ? "met" : "NOT met");
        namespace b = anycast::bench;
        const auto result_row = [](const char* what, const std::vector<double>& ours, const std::vector<double>& ip) {
            const double a = median(ours), f = median(ip);
            b::result(std::string("netlink layer: ") + what + " 20 000 routes, one batch (issue 3)",
                      fmt::format("{:.1f} ms", a), fmt::format("{:.1f} ms (ip -batch)", f), a / f, "<= 1.2 x",
                      b::met(a <= 1.2 * f));
        };
        result_row("install", ours_install, ip_install);
        result_row("delete", ours_remove, ip_remove);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netlink bench failed: %s\n", e.what());
        return 1;
    }
}
