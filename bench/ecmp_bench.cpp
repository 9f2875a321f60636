// Issue 19 item 5: the fraction of flows that move when one of N pods (N = 2, 3, 8) leaves,
// resilient nexthop groups beside a plain RTA_MULTIPATH route, every pod in turn leaving.
// Real flows: 400 UDP flows with fixed source ports from a client namespace through a node
// namespace (layer-4 multipath hashing) to echo servers in pod namespaces (test/support/flow_lab).
// The routes and groups are written by serve's own diff and apply (reconciler/pipeline,
// reconciler/serve/kernel_routes). Needs root; makes its own network namespaces.
#include "bench/bench_report.hpp"
#include "common/log.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/socket.hpp"
#include "reconciler/pipeline/desired_diff.hpp"
#include "reconciler/serve/kernel_routes.hpp"
#include "test/support/flow_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nl = anycast::common::netlink;
namespace rc = anycast::reconciler;
using namespace anycast::test;

namespace {

constexpr const char* k_anycast = "10.255.53.53";
constexpr int k_flows = 400;

struct Pod {
    std::string name;
    std::unique_ptr<NamedNetns> ns;
    std::string host_end;
    std::string ip;
};

Pod make_pod(int index) {
    Pod pod{"pod" + std::to_string(index), std::make_unique<NamedNetns>("pod"), unique_name("v"),
            "10.0.0." + std::to_string(10 + index)};
    make_veth(pod.host_end, "eth0", pod.ns->name());
    pod.ns->exec("ip addr add " + pod.ip + "/32 dev eth0");
    sh("ip route add " + pod.ip + "/32 dev " + pod.host_end);
    return pod;
}

// One pass of serve's pipeline: the route to the anycast IP via `pods` (none: withdrawn).
void route_via(nl::Socket& socket, const anycast::common::RouteSettings& settings,
               const std::vector<const Pod*>& pods) {
    std::vector<rc::DesiredRoute> desired;
    if (!pods.empty()) {
        rc::DesiredRoute route{*anycast::common::Prefix::parse(std::string(k_anycast) + "/32"), {}};
        for (const auto* pod : pods) route.hops.push_back({*anycast::common::IpAddress::parse(pod->ip), pod->host_end});
        std::sort(route.hops.begin(), route.hops.end());
        desired.push_back(std::move(route));
    }
    const rc::KernelView kernel = rc::read_kernel(socket, settings);
    const rc::RouteDiff diff = rc::diff_desired(desired, kernel.routes, kernel.links, settings, kernel.nexthops);
    if (rc::apply_changes(socket, diff, kernel.links).errors != 0) throw std::runtime_error("a change was refused");
}

struct Figures {
    double moved = 0;            // of all flows
    double remaining_moved = 0;  // of the flows on pods that stay
    double worst_remaining = 0;
    double leaving_share = 0;  // of all flows: those the leaving pod had, what must move
};

Figures measure(nl::Socket& socket, const FlowLab& flows, const std::vector<Pod>& pods,
                anycast::common::EcmpMode mode) {
    anycast::common::RouteSettings settings;
    settings.ecmp = mode;
    Figures figures;
    for (std::size_t leaving = 0; leaving < pods.size(); ++leaving) {
        std::vector<const Pod*> all, remaining;
        for (const auto& pod : pods) {
            all.push_back(&pod);
            if (&pod != &pods[leaving]) remaining.push_back(&pod);
        }
        route_via(socket, settings, {});  // a fresh group: balanced as at a pod set's start
        route_via(socket, settings, all);
        const auto before = flows.udp_map(k_flows);
        route_via(socket, settings, remaining);
        const auto after = flows.udp_map(k_flows);
        const FlowMoves moves = count_moves(before, after, pods[leaving].name);
        if (moves.unanswered != 0 || !moves.leaving_rehomed) throw std::runtime_error("flows went unanswered");
        const double remaining_fraction =
            moves.on_remaining == 0 ? 0 : double(moves.remaining_moved) / moves.on_remaining;
        figures.moved += double(moves.remaining_moved + moves.leaving) / k_flows;
        figures.remaining_moved += remaining_fraction;
        figures.leaving_share += double(moves.leaving) / k_flows;
        figures.worst_remaining = std::max(figures.worst_remaining, remaining_fraction);
    }
    figures.moved /= static_cast<double>(pods.size());
    figures.remaining_moved /= static_cast<double>(pods.size());
    figures.leaving_share /= static_cast<double>(pods.size());
    return figures;
}

}  // namespace

int main() {
    anycast::common::log::set_level(anycast::common::log::Level::warn);  // a line per change otherwise
    PrivateNetns netns;
    auto socket = nl::Socket::open();
    sh("ip rule add priority 1000 lookup 241");
    std::printf("flows moved when one of N pods leaves (%d UDP flows, each pod leaving in turn, mean; ideal = 1/N)\n",
                k_flows);
    std::printf("%3s  %-28s  %-28s\n", "N", "resilient: all / stayers'", "multipath: all / stayers'");
    for (const int n : {2, 3, 8}) {
        std::vector<Pod> pods;
        FlowLab flows(k_anycast);
        for (int i = 1; i <= n; ++i) {
            pods.push_back(make_pod(i));
            flows.add_pod(pods.back().name, pods.back().ns->name(), pods.back().host_end);
        }
        const Figures resilient = measure(socket, flows, pods, anycast::common::EcmpMode::resilient);
        const Figures multipath = measure(socket, flows, pods, anycast::common::EcmpMode::multipath);
        std::printf("%3d  %5.1f%% / %4.1f%% (max %4.1f%%)   %5.1f%% / %4.1f%% (max %4.1f%%)\n", n,
                    100 * resilient.moved, 100 * resilient.remaining_moved, 100 * resilient.worst_remaining,
                    100 * multipath.moved, 100 * multipath.remaining_moved, 100 * multipath.worst_remaining);
        route_via(socket, {}, {});
        // Exactly that pod's share: no flow of a staying pod moved, whichever pod left.
        const auto row = [&](const char* mode, const Figures& f, bool targeted) {
            anycast::bench::result(
                fmt::format("flows moved when 1 of {} pods leaves, {} (mean of each leaving)", n, mode),
                fmt::format("{:.1f}% (stayers' {:.1f}%, worst {:.1f}%)", 100 * f.moved, 100 * f.remaining_moved,
                            100 * f.worst_remaining),
                fmt::format("{:.1f}% (the leaving pod's share)", 100 * f.leaving_share), f.moved / f.leaving_share,
                targeted ? "exactly that share" : "report",
                targeted ? anycast::bench::met(f.worst_remaining == 0) : "report");
        };
        row("resilient groups", resilient, true);
        row("RTA_MULTIPATH (for readers)", multipath, false);
    }
    return 0;
}
