// Issue 7 item 6: how fast a withdrawal reaches the upstream router's kernel, beside BIRD's
// own floor measured in the same run, in the BIRD lab (test/support/bird_lab.hpp).
//
//   floor:  our kernel route deleted directly with netlink  → RTM_DELROUTE at the router
//   set:    BirdPublisher publishes the set without the prefix (render, write, configure)
//           → RTM_DELROUTE at the router
//   serve:  `flock-anycast serve` in the node reads pods.json saying its only pod is no
//           longer ready (inotify → pass → route deleted, include rewritten, configure)
//           → RTM_DELROUTE at the router. This is the issue's "readiness change →
//           withdrawal"; the target applies to it.
//
// Usage (root): unshare --net -- bird_withdraw_bench [rounds=300]  (p99 of 100 is the max)
// Prints p50/p99 of each and the target "ours ≤ floor + 0.5 ms" (issue 20), and RESULT lines
// for bench/run.sh. Not a test: nothing is asserted.
#include "bench/bench_report.hpp"
#include "common/ip_address.hpp"
#include "common/log.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/monitor.hpp"
#include "common/netlink/netns.hpp"
#include "common/netlink/route.hpp"
#include "reconciler/bird/bird_publisher.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/wait_until.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace nl = anycast::common::netlink;
using namespace std::chrono_literals;
using anycast::common::IpAddress;
using anycast::common::Prefix;
using Clock = std::chrono::steady_clock;

namespace {

// Route events of the router's kernel, driven by the same io_context as the publisher so a
// timestamp is taken the moment the event is readable.
class RouterWatch {
public:
    RouterWatch(asio::io_context& io, const std::string& netns_path) : io_(io), descriptor_(io), timer_(io) {
        nl::NetnsGuard guard(netns_path);
        monitor_.emplace(nl::Monitor::open());
        const int fd = ::dup(monitor_->fd());
        if (fd < 0) throw std::runtime_error("dup monitor fd failed");
        descriptor_.assign(fd);
    }

    // Runs the loop until the router's kernel adds (or deletes) `prefix`; returns when. Events
    // that arrived earlier in the same read are kept, so none is lost between two waits.
    Clock::time_point wait(const Prefix& prefix, nl::RouteEvent::Kind kind, const char* what) {
        bool timed_out = false;
        timer_.expires_after(30s);
        timer_.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) timed_out = true;
        });
        for (;;) {
            for (auto it = seen_.begin(); it != seen_.end(); ++it) {
                if (it->prefix == prefix && it->kind == kind) {
                    const auto when = it->when;
                    seen_.erase(seen_.begin(), it + 1);
                    timer_.cancel();
                    return when;
                }
            }
            if (timed_out) throw std::runtime_error(std::string("the router never saw: ") + what);
            if (!armed_) arm();
            io_.restart();
            io_.run_one();
        }
    }

private:
    struct Seen {
        Prefix prefix;
        nl::RouteEvent::Kind kind;
        Clock::time_point when;
    };

    void arm() {
        armed_ = true;
        descriptor_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
            armed_ = false;
            if (ec) return;
            const auto now = Clock::now();
            for (const auto& event : monitor_->read_events()) {
                if (const auto* route = std::get_if<nl::RouteEvent>(&event)) {
                    seen_.push_back(Seen{route->route.destination, route->kind, now});
                }
            }
        });
    }

    asio::io_context& io_;
    std::optional<nl::Monitor> monitor_;
    asio::posix::stream_descriptor descriptor_;
    asio::steady_timer timer_;
    std::vector<Seen> seen_;
    bool armed_ = false;
};

struct Summary {
    double p50, p99, min, max;
};

Summary summarize(const std::vector<double>& ms) {
    return Summary{anycast::bench::quantile(ms, 0.50), anycast::bench::quantile(ms, 0.99),
                   *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end())};
}

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::stoi(argv[1]) : 300;
    anycast::common::log::set_level(anycast::common::log::Level::warn);
    try {
        anycast::test::PrivateNetns netns;
        anycast::test::BirdLab lab;
        asio::io_context io;
        anycast::reconciler::BirdPublisher publisher(
            io, anycast::reconciler::BirdPublisherSettings{lab.fragment_path, lab.node_bird->socket(), 2s,
                                                           anycast::reconciler::BirdReloadOptions{20ms, 200ms}, 0ms});
        RouterWatch router(io, lab.router.path());
        auto node = nl::Socket::open_in_netns(lab.node.path());
        const auto link = nl::find_link(node, lab.pods[0].node_iface);
        if (!link) throw std::runtime_error("no pod link in the node");

        const Prefix prefix = *Prefix::parse("10.255.53.53/32");
        const nl::Route route{prefix,
                              {nl::NextHop{*IpAddress::parse(lab.pods[0].v4), link->index}},
                              static_cast<int>(lab.protocol),
                              lab.table};
        const std::vector<Prefix> with{prefix};
        const std::vector<Prefix> without{};

        // Announced: our route plus the set.
        nl::replace_route(node, route);
        publisher.publish(with);
        router.wait(prefix, nl::RouteEvent::Kind::added, "announcement");

        std::vector<double> floor_ms, set_ms, write_ms;
        for (int i = 0; i < rounds; ++i) {
            // Floor: the kernel route goes.
            auto t0 = Clock::now();
            nl::delete_route(node, route);
            floor_ms.push_back(ms_between(t0, router.wait(prefix, nl::RouteEvent::Kind::deleted, "withdrawal")));
            nl::replace_route(node, route);
            router.wait(prefix, nl::RouteEvent::Kind::added, "announcement");

            // Ours: the prefix leaves the rendered set, the route stays.
            t0 = Clock::now();
            publisher.publish(without);
            write_ms.push_back(ms_between(t0, Clock::now()));
            set_ms.push_back(ms_between(t0, router.wait(prefix, nl::RouteEvent::Kind::deleted, "withdrawal")));
            publisher.publish(with);
            router.wait(prefix, nl::RouteEvent::Kind::added, "announcement");
        }
        while (publisher.reloader().busy()) {
            io.restart();
            io.run_one();
        }

        // serve takes over the include and the route (it adopts the route as it is).
        lab.prepare_serve();
        lab.set_readiness({{true, false}, {false, false}});
        const auto serve = lab.start_serve();
        // Steady state first: serve rewrites the include and reloads BIRD when it starts, and a
        // flip while that `configure` still runs waits for it (~10 ms: it was every run's max).
        const bool reloaded = anycast::test::wait_until(
            [&] {
                return anycast::test::read_text_file(lab.dir.file("serve.log")).find("msg=\"bird reload\"") !=
                       std::string::npos;
            },
            10s, 1ms);
        if (!reloaded) throw std::runtime_error("serve never reloaded BIRD");
        std::vector<double> serve_ms;
        for (int i = 0; i < rounds; ++i) {
            if (!serve->alive())
                throw std::runtime_error("serve exited:\n" + anycast::test::read_text_file(lab.dir.file("serve.log")));
            const auto t0 = Clock::now();
            lab.set_readiness({{false, false}, {false, false}});
            serve_ms.push_back(ms_between(t0, router.wait(prefix, nl::RouteEvent::Kind::deleted, "withdrawal")));
            lab.set_readiness({{true, false}, {false, false}});
            router.wait(prefix, nl::RouteEvent::Kind::added, "announcement");
        }

        const auto floor = summarize(floor_ms);
        const auto set = summarize(set_ms);
        const auto write = summarize(write_ms);
        const auto served = summarize(serve_ms);
        const double target_p50 = floor.p50 + 0.5;
        const double target_p99 = floor.p99 + 0.5;
        fmt::print("withdrawal visible in the router's kernel, {} rounds each (ms)\n", rounds);
        fmt::print("{:<44} {:>8} {:>8} {:>8} {:>8}\n", "", "p50", "p99", "min", "max");
        fmt::print("{:<44} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n", "floor: kernel route deleted (netlink)", floor.p50,
                   floor.p99, floor.min, floor.max);
        fmt::print("{:<44} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n", "ours: prefix left the set (write+configure)",
                   set.p50, set.p99, set.min, set.max);
        fmt::print("{:<44} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n", "  of which publish() (render+write, blocking)",
                   write.p50, write.p99, write.min, write.max);
        fmt::print("{:<44} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}\n", "ours: readiness change (serve)", served.p50,
                   served.p99, served.min, served.max);
        fmt::print("target for serve, floor + 0.5 ms: p50 {:.3f} ({}), p99 {:.3f} ({})\n", target_p50,
                   served.p50 <= target_p50 ? "met" : "MISSED", target_p99,
                   served.p99 <= target_p99 ? "met" : "MISSED");
        anycast::bench::print_rounds("floor: kernel route deleted", floor_ms);
        anycast::bench::print_rounds("serve: readiness change", serve_ms);
        const auto row = [&](const char* which, double ours, double base) {
            anycast::bench::result(
                fmt::format("readiness event -> withdrawal in the BGP peer's kernel, {} ({} rounds)", which, rounds),
                fmt::format("{:.3f} ms", ours), fmt::format("{:.3f} ms (kernel route deleted by hand)", base),
                ours / base, "<= floor + 0.5 ms", anycast::bench::met(ours <= base + 0.5));
        };
        row("p50", served.p50, floor.p50);
        row("p99", served.p99, floor.p99);
        fmt::print("bench publisher reloads: {} attempts, {} succeeded, {} rejected, {} without answer\n",
                   publisher.reload_stats().attempts, publisher.reload_stats().succeeded,
                   publisher.reload_stats().rejected, publisher.reload_stats().transport_failures);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bird_withdraw_bench: %s\n", e.what());
        return 1;
    }
}
