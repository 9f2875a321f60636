// Sends what plan_reports decided (issue 18 items 2 and 3) on serve's loop: the readiness-gate
// condition as a pods/status patch, retried with backoff while the apiserver is away, and
// events, rate-limited per pod and per node so a flapping pod cannot flood the apiserver.
// Neither ever blocks a pass: routes matter more than reports.
#pragma once

#include "common/backoff.hpp"
#include "common/kube/kube_config.hpp"
#include "common/kube/pod_cache.hpp"
#include "reconciler/serve/pod_report_plan.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace anycast::reconciler {

// A token bucket: `burst` at once, then one more every `refill`.
class EventBudget {
public:
    EventBudget(unsigned burst, std::chrono::milliseconds refill) : burst_(burst), refill_(refill), tokens_(burst) {}
    bool take(std::chrono::steady_clock::time_point now);
    // A token from each budget, or from neither: an event the node's budget drops does not
    // spend the pod's token too.
    static bool take_both(EventBudget& a, EventBudget& b, std::chrono::steady_clock::time_point now);

private:
    bool refill(std::chrono::steady_clock::time_point now);  // true when a token is there

    unsigned burst_;
    std::chrono::milliseconds refill_;
    double tokens_;
    std::chrono::steady_clock::time_point last_{};
};

struct PodReporterSettings {
    std::string node;
    std::string component = "flock-anycast";
    std::chrono::milliseconds timeout{5000};
    std::size_t max_in_flight = 8;
    // Per pod: 5 events at once, then one per 30 s; per node: 50 at once, then 5 per second.
    unsigned pod_event_burst = 5;
    std::chrono::milliseconds pod_event_refill{30000};
    unsigned node_event_burst = 50;
    std::chrono::milliseconds node_event_refill{200};
};

struct PodReporterCounters {
    std::function<void()> patch_ok, patch_failed, event_sent, event_dropped, event_failed;
};

class PodReporter {
public:
    using CacheView = std::function<const common::kube::PodCache*()>;

    // Throws KubeConfigError when `access` has unusable TLS material.
    PodReporter(boost::asio::io_context& io, common::kube::KubeConfig access, CacheView cache,
                PodReporterSettings settings, PodReporterCounters counters);
    ~PodReporter();
    PodReporter(const PodReporter&) = delete;
    PodReporter& operator=(const PodReporter&) = delete;

    // The pods' announcements after a pass or after BIRD took a set in.
    void report(std::vector<PodAnnouncement> now);

    std::size_t in_flight() const { return *in_flight_; }

private:
    struct Access;
    struct Write;
    void plan();
    void enqueue_gate(const GateWrite& gate);
    void enqueue_event(const EventWrite& event);
    void pump();
    void finished(const Write& write, unsigned status, const std::string& error);
    void retry_later();

    boost::asio::io_context& io_;
    std::shared_ptr<Access> access_;
    CacheView cache_;
    PodReporterSettings settings_;
    PodReporterCounters counters_;
    ReportMemory memory_;
    std::vector<PodAnnouncement> latest_;
    std::deque<std::shared_ptr<Write>> queue_;
    std::set<std::string> gates_in_flight_;  // one condition write per pod at a time
    std::shared_ptr<std::size_t> in_flight_ = std::make_shared<std::size_t>(0);
    EventBudget node_budget_;
    std::map<std::string, EventBudget> pod_budgets_;
    boost::asio::steady_timer retry_timer_;
    common::Backoff retry_backoff_{std::chrono::milliseconds(500), std::chrono::milliseconds(30000)};
    std::uint64_t event_serial_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace anycast::reconciler
