#include "reconciler/serve/pod_reporter.hpp"

#include "common/kube/api_request.hpp"
#include "common/log.hpp"
#include "common/utc_time.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>

namespace anycast::reconciler {

namespace net = boost::asio;
namespace kube = common::kube;
namespace log = common::log;
using log::kv;

bool EventBudget::refill(std::chrono::steady_clock::time_point now) {
    if (last_ != std::chrono::steady_clock::time_point{}) {
        tokens_ = std::min<double>(
            burst_, tokens_ + static_cast<double>((now - last_).count()) /
                                  static_cast<double>(std::chrono::steady_clock::duration(refill_).count()));
    }
    last_ = now;
    return tokens_ >= 1;
}

bool EventBudget::take(std::chrono::steady_clock::time_point now) {
    if (!refill(now)) return false;
    tokens_ -= 1;
    return true;
}

bool EventBudget::take_both(EventBudget& a, EventBudget& b, std::chrono::steady_clock::time_point now) {
    const bool a_has = a.refill(now);  // both refilled, whatever the first says
    if (!b.refill(now) || !a_has) return false;
    a.tokens_ -= 1;
    b.tokens_ -= 1;
    return true;
}

struct PodReporter::Access {
    kube::KubeConfig config;
    std::shared_ptr<net::ssl::context> tls;
};

struct PodReporter::Write {
    bool gate = false;  // else an event
    std::string key;    // namespace/name
    std::string uid;
    kube::ApiWrite request;
};

namespace {

net::awaitable<kube::ApiResponse> send(std::shared_ptr<kube::KubeConfig> config, std::shared_ptr<net::ssl::context> tls,
                                       kube::ApiWrite write, std::chrono::milliseconds timeout) {
    co_return co_await kube::async_api_write(*config, *tls, std::move(write), timeout);
}

// Worth asking again: no answer, or the apiserver busy or failing.
bool transient(unsigned status) { return status == 0 || status == 429 || status >= 500; }

}  // namespace

PodReporter::PodReporter(net::io_context& io, kube::KubeConfig access, CacheView cache, PodReporterSettings settings,
                         PodReporterCounters counters)
    : io_(io),
      cache_(std::move(cache)),
      settings_(std::move(settings)),
      counters_(std::move(counters)),
      node_budget_(settings_.node_event_burst, settings_.node_event_refill),
      retry_timer_(io) {
    auto tls = kube::make_tls_context(access);
    access_ = std::make_shared<Access>(Access{std::move(access), std::move(tls)});
}

PodReporter::~PodReporter() = default;

void PodReporter::report(std::vector<PodAnnouncement> now) {
    latest_ = std::move(now);
    plan();
}

void PodReporter::plan() {
    const kube::PodCache* cache = cache_();
    if (cache == nullptr) return;
    const ReportPlan plan = plan_reports(
        memory_, latest_, [cache](const std::string& key) { return cache->find(key); }, settings_.node);
    for (const auto& gate : plan.gates) enqueue_gate(gate);
    for (const auto& event : plan.events) enqueue_event(event);
    std::erase_if(pod_budgets_, [&](const auto& entry) { return !memory_.pods.contains(entry.first); });
    pump();
}

void PodReporter::enqueue_gate(const GateWrite& gate) {
    auto write = std::make_shared<Write>();
    write->gate = true;
    write->key = gate.pod.namespace_ + "/" + gate.pod.name;
    write->uid = gate.pod.uid;
    write->request = kube::announced_condition_patch(gate.pod, gate.announced, gate.reason, gate.message,
                                                     common::utc_now(common::k_rfc3339_utc));
    // A newer condition for the pod replaces one still queued: only the latest matters.
    const auto queued =
        std::find_if(queue_.begin(), queue_.end(), [&](const auto& w) { return w->gate && w->key == write->key; });
    if (queued != queue_.end()) {
        *queued = std::move(write);
    } else {
        queue_.push_back(std::move(write));
    }
}

void PodReporter::enqueue_event(const EventWrite& event) {
    const std::string key = event.pod.namespace_ + "/" + event.pod.name;
    const auto now = std::chrono::steady_clock::now();
    auto budget = pod_budgets_.try_emplace(key, settings_.pod_event_burst, settings_.pod_event_refill).first;
    if (!EventBudget::take_both(budget->second, node_budget_, now)) {
        if (counters_.event_dropped) counters_.event_dropped();
        log::debug("event dropped by the rate limit", {kv("pod", key), kv("reason", event.event.reason)});
        return;
    }
    auto write = std::make_shared<Write>();
    write->key = key;
    write->uid = event.pod.uid;
    const auto unique =
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) + event_serial_++;
    write->request = kube::pod_event_post(event.pod, event.event, settings_.node, settings_.component,
                                          common::utc_now(common::k_rfc3339_utc), unique);
    queue_.push_back(std::move(write));
}

void PodReporter::pump() {
    while (*in_flight_ < settings_.max_in_flight) {
        // The first write whose pod has no condition write in flight (one at a time per pod,
        // so they land in order).
        const auto next = std::find_if(queue_.begin(), queue_.end(),
                                       [&](const auto& w) { return !w->gate || !gates_in_flight_.contains(w->key); });
        if (next == queue_.end()) return;
        std::shared_ptr<Write> write = *next;
        queue_.erase(next);
        if (write->gate) gates_in_flight_.insert(write->key);
        ++*in_flight_;
        auto config = std::shared_ptr<kube::KubeConfig>(access_, &access_->config);
        net::co_spawn(io_, send(std::move(config), access_->tls, write->request, settings_.timeout),
                      [this, write, alive = std::weak_ptr<int>(alive_), in_flight = in_flight_](
                          std::exception_ptr failure, kube::ApiResponse response) {
                          --*in_flight;
                          if (alive.expired()) return;
                          std::string error;
                          if (failure) {
                              try {
                                  std::rethrow_exception(failure);
                              } catch (const std::exception& e) {
                                  error = e.what();
                              }
                              response.status = 0;
                          } else if (response.status >= 300) {
                              error = kube::api_status_message(response);
                          }
                          finished(*write, response.status, error);
                      });
    }
}

void PodReporter::finished(const Write& write, unsigned status, const std::string& error) {
    const bool ok = error.empty();
    if (write.gate) {
        gates_in_flight_.erase(write.key);
        if (ok) {
            if (counters_.patch_ok) counters_.patch_ok();
            retry_backoff_.reset();
        } else {
            if (counters_.patch_failed) counters_.patch_failed();
            const bool again = transient(status);
            // 404: the pod is gone; 409: the uid precondition failed, another pod now has the
            // name. Neither is ours to retry. Others (403: RBAC lacks pods/status patch) are
            // logged and tried again only when the condition changes.
            log::write(again || status == 404 || status == 409 ? log::Level::warn : log::Level::error,
                       "readiness gate condition not set",
                       {kv("pod", write.key), kv("status", status), kv("error", error), kv("retry", again)});
            if (again) {
                auto found = memory_.pods.find(write.key);
                if (found != memory_.pods.end() && found->second.uid == write.uid) found->second.condition_sent.reset();
                retry_later();
            }
        }
    } else if (ok) {
        if (counters_.event_sent) counters_.event_sent();
    } else {
        if (counters_.event_failed) counters_.event_failed();
        log::warn("event not recorded", {kv("pod", write.key), kv("status", status), kv("error", error)});
    }
    pump();
}

void PodReporter::retry_later() {
    if (retry_timer_.expiry() > std::chrono::steady_clock::now()) return;  // one already armed
    retry_timer_.expires_after(retry_backoff_.next());
    retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) plan();
    });
}

}  // namespace anycast::reconciler
