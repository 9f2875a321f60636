#include "reconciler/serve/serve.hpp"

#include "common/log.hpp"
#include "common/config/node_config_loader.hpp"
#include "common/netlink/nexthop_changes.hpp"
#include "common/netlink/route_changes.hpp"
#include "reconciler/serve/ecmp_support.hpp"
#include "reconciler/serve/kernel_routes.hpp"
#include "reconciler/bird/bird_access.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/serve/publisher_factory.hpp"
#include "reconciler/serve/stale_records.hpp"
#include "reconciler/metrics/serve_metrics.hpp"
#include "reconciler/readiness/readiness_factory.hpp"

#include <fmt/format.h>
#include <sys/inotify.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <cstring>

namespace anycast::reconciler {

namespace log = common::log;
namespace netlink = common::netlink;
using log::kv;

namespace {

// The readiness source is made from its settings, the node's name and the Kubernetes access.
bool same_readiness(const common::NodeConfig& a, const common::NodeConfig& b) {
    return a.readiness == b.readiness && a.node == b.node && a.kubeconfig == b.kubeconfig;
}

// CPU time of the loop's thread: a pass's wall time also counts waiting for a busy CPU.
std::int64_t thread_cpu_us() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

}  // namespace

Server::Server(ServeOptions options, common::NodeConfig config)
    : options_(std::move(options)),
      config_(std::move(config)),
      socket_(netlink::Socket::open()),
      // Opened before the first dump so nothing that happens after it is missed.
      monitor_(netlink::Monitor::open()),
      monitor_descriptor_(io_, monitor_.fd()),
      resync_timer_(io_),
      retry_timer_(io_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      trigger_(io_, [this](const std::set<std::string>& reasons) { pass(reasons); }),
      systemd_(SystemdNotifier::from_environment(io_)) {}

Server::~Server() {
    // The monitor owns its fd; the descriptor only borrowed it for async waits.
    boost::system::error_code ignored;
    monitor_descriptor_.cancel(ignored);
    monitor_descriptor_.release();
    if (readiness_) readiness_->stop();
}

int Server::run() {
    config_.routes = supported_route_settings(config_.routes);
    log::info("serve starting",
              {kv("node", config_.node), kv("stateDir", config_.state_dir), kv("table", config_.routes.table),
               kv("protocol", config_.routes.protocol), kv("ecmp", common::ecmp_name(config_.routes.ecmp)),
               kv("readiness", describe_readiness(config_)), kv("dryRun", options_.dry_run),
               kv("withdrawOnExit", options_.withdraw_on_exit)});
    if (!options_.dry_run) ensure_rules(socket_, config_.routes);
    check_nexthop_compat_mode(config_.routes);
    publisher_ = make_publisher(io_, config_, options_.dry_run);
    watch_publisher();
    // A BIRD of the operator's own: say now what keeps the announcements from reaching it.
    if (config_.bird.enabled && config_.bird.config.empty() && !options_.dry_run) {
        for (const auto& problem : bird_access_problems(config_.bird)) log::error("bird: " + problem);
    }
    write_bird_conf();
    start_inputs();
    start_metrics();
    if (!options_.dry_run) {
        make_kube_clients(config_);
        listen_for_lookups(config_.state_dir);
    }
    arm_monitor();
    arm_signals();
    trigger_.request("start");
    io_.run();
    return exit_code_;
}

// A metrics endpoint that cannot listen is logged, not fatal: routes matter more than figures.
void Server::start_metrics() {
    MetricsServerOptions options;
    options.listen = config_.metrics.listen;
    options.before_metrics = [this] {
        source_counts_.observe(publisher_.get(), readiness_.get());
        source_counts_.observe(node_watch_counts());
        metrics_.bird_healthy.set(publisher_->trouble() ? 0 : 1);
    };
    health_.set_publisher_check([this] { return publisher_->trouble(); });
    metrics_server_ = std::make_unique<MetricsServer>(io_, metrics_.registry, health_, options);
    try {
        metrics_server_->start();  // logs the address it listens on
    } catch (const std::exception& e) {
        log::error("metrics endpoint not started", {kv("listen", config_.metrics.listen), kv("error", e.what())});
    }
}

void Server::start_inputs() {
    use_records(open_records(config_.state_dir));
    use_readiness(start_source(config_));
    watch_node();
    arm_resync();
}

Server::RecordsInput Server::open_records(const std::string& state_dir) {
    RecordsInput in;
    in.store = std::make_unique<common::RecordStore>(state_dir);
    in.index = std::make_unique<RecordIndex>(*in.store);
    // Creates records/ (0700) if the CNI plugin has not yet, so there is something to watch.
    in.store->check_usable();
    in.records_watch = std::make_unique<common::InotifyWatch>(
        io_, in.store->records_dir(),
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF,
        [this](std::string_view name, std::uint32_t mask) {
            // The store writes temp files elsewhere and renames them in; only *.json counts.
            if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
                reopen_records_ = true;  // see state_dir_watch below
            } else if ((mask & IN_Q_OVERFLOW) != 0) {
                rescan_records_ = true;
            } else if (common::RecordStore::is_record_file_name(name)) {
                changed_records_.emplace(name);
            } else {
                return;
            }
            trigger_.request("records");
        });
    // records/ itself removed or renamed away (rm -rf, mv + mkdir): the watch above follows
    // the dead directory, and says so only by IN_MOVE_SELF, or IN_DELETE_SELF once nothing
    // holds the inode (the index keeps a descriptor of it). The state directory sees the name
    // go and come back; the next pass then watches and reads the path anew.
    in.state_dir_watch =
        std::make_unique<common::InotifyWatch>(io_, state_dir, IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE,
                                               [this](std::string_view name, std::uint32_t mask) {
                                                   if (name != "records" && (mask & IN_Q_OVERFLOW) == 0) return;
                                                   reopen_records_ = true;
                                                   trigger_.request("records");
                                               });
    return in;
}

void Server::use_records(RecordsInput in) {
    prepared_.reset();  // points into the old index
    // The old input goes whole, index before its store (member order), not member by member.
    const RecordsInput old = std::exchange(records_in_, std::move(in));
    clean_inputs_.reset();  // the new index counts generations from zero again
    rescan_records_ = true;
    changed_records_.clear();
}

std::unique_ptr<ReadinessSource> Server::start_source(const common::NodeConfig& config) {
    auto source = make_readiness_source(io_, config);
    source->start([this] { trigger_.request("readiness"); });
    return source;
}

void Server::use_readiness(std::unique_ptr<ReadinessSource> source) {
    if (readiness_) {
        readiness_->stop();
        source_counts_.retire(*readiness_);
    }
    readiness_ = std::move(source);
    waiting_logged_ = false;
}

void Server::arm_monitor() {
    monitor_descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                   [this](boost::system::error_code ec) {
                                       if (ec == boost::asio::error::operation_aborted) return;
                                       if (ec) {
                                           log::error("netlink monitor wait failed", {kv("error", ec.message())});
                                           return;
                                       }
                                       on_kernel_events();
                                       arm_monitor();
                                   });
}

void Server::on_kernel_events() {
    std::vector<netlink::Event> events;
    try {
        events = monitor_.read_events();
    } catch (const std::exception& e) {
        log::error("netlink monitor read failed; resyncing", {kv("error", e.what())});
        kernel_changed("monitor-error");
        return;
    }
    for (const auto& event : events) {
        if (std::holds_alternative<netlink::ResyncNeeded>(event)) {
            ++counters_.resyncs;
            kernel_changed("monitor-overrun");
        } else if (const auto* route = std::get_if<netlink::RouteEvent>(&event)) {
            if (route->route.table != config_.routes.table) continue;
            const netlink::Route* ours = find_target(route->route.destination);
            if (route->route.protocol != config_.routes.protocol) {
                // Someone else's route on one of our destinations in our table may have
                // replaced ours (a replace sends no delete for the old route).
                if (ours != nullptr) kernel_changed("route-replaced");
                continue;
            }
            const bool added = route->kind == netlink::RouteEvent::Kind::added;
            // Our own changes come back as events: an add equal to what we installed, or a
            // delete of something we no longer want, needs no pass.
            if (added && ours != nullptr && netlink::same_route(route->route, *ours)) continue;
            if (!added && ours == nullptr) continue;
            kernel_changed(added ? "route-added" : "route-deleted");
        } else if (const auto* nexthop = std::get_if<netlink::NexthopEvent>(&event)) {
            // Our objects echoed back need nothing; someone else's new one only makes the
            // cached id list stale (a new id of ours must not take it).
            const bool added = nexthop->kind == netlink::NexthopEvent::Kind::added;
            if (!netlink::nexthop_event_expected(nexthop->nexthop, added, target_nexthops_->ours,
                                                 config_.routes.protocol)) {
                kernel_changed(added ? "nexthop-changed" : "nexthop-deleted");
            } else if (added && nexthop->nexthop.protocol != config_.routes.protocol) {
                kernel_.reset();
            }
        } else if (const auto* rule = std::get_if<netlink::RuleEvent>(&event)) {
            // Our rule deleted (by hand, by `cleanup`): routes in our table would stay
            // announced but unused. Put it back at once, like a route.
            if (rule->kind == netlink::RuleEvent::Kind::deleted && rule->rule.table == config_.routes.table &&
                rule->rule.priority == config_.routes.rule_priority && needs_rule(config_.routes) &&
                !options_.dry_run) {
                log::warn("our ip rule was deleted; adding it again",
                          {kv("family", common::family_number(rule->rule.family)), kv("priority", rule->rule.priority),
                           kv("table", rule->rule.table)});
                ensure_rules(socket_, config_.routes);
            }
        } else if (const auto* link = std::get_if<netlink::LinkEvent>(&event)) {
            // Any link change makes the cached link table stale (a pod's new veth may be
            // named by a record that arrives next); only referenced ones need a pass now.
            kernel_.reset();
            if (referenced_ifaces_.contains(link->link.name) || referenced_ifaces_.contains(link->old_name)) {
                trigger_.request("link-" + link->link.name);
            }
        }
    }
}

// The kernel changed in a way the cached view does not know: re-read it at the next pass.
void Server::kernel_changed(std::string_view reason) {
    kernel_.reset();
    trigger_.request(reason);
}

void Server::arm_resync() {
    resync_timer_.expires_after(std::chrono::seconds(config_.resync_seconds));
    resync_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;  // cancelled by a reload re-arming it
        ++counters_.resyncs;
        rescan_records_ = true;
        sweep_stale_records_ = true;
        kernel_.reset();
        trigger_.request("resync");
        arm_resync();
    });
}

void Server::schedule_retry() {
    // A refused change or unreadable kernel is retried soon, backing off to the resync period.
    retry_timer_.expires_after(
        std::min<std::chrono::milliseconds>(retry_backoff_.next(), std::chrono::seconds(config_.resync_seconds)));
    retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        rescan_records_ = true;
        kernel_.reset();
        trigger_.request("retry");
    });
}

void Server::arm_signals() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGHUP) {
            reload_config();
            arm_signals();
            return;
        }
        if (options_.drain_on_exit && exit_signal_ == 0 && !options_.dry_run) {
            exit_signal_ = signal;  // a second signal ends serve at once
            drain_.set_reasons(DrainSource::signal, {{DrainCause::signal, std::string("signal ") + strsignal(signal)}},
                               config_.drain, "");
            arm_signals();
            return;
        }
        shut_down(signal);
    });
}

void Server::pass(const std::set<std::string>& reasons) {
    health_.set_readiness_synced(readiness_->synced(),
                                 "readiness source " + std::string(readiness_->name()) + " has not synced");
    if (!readiness_->synced()) {
        if (!waiting_logged_) log::info("waiting for the readiness source", {kv("source", readiness_->name())});
        waiting_logged_ = true;
        return;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t started_cpu_us = thread_cpu_us();
    const std::uint64_t started_sends = socket_.send_count();
    ++counters_.passes;
    try {
        if (reopen_records_) {
            log::warn("records directory removed or replaced; watching and reading it anew",
                      {kv("dir", records_in_.store->records_dir())});
            use_records(open_records(config_.state_dir));  // makes records/ again when gone; rescans
            reopen_records_ = false;
        }
        if (rescan_records_) {
            rescan_records_ = false;
            changed_records_.clear();
            records_in_.index->rescan();
        } else {
            // Cleared first: a read that throws leads to a retry, which rescans everything.
            const std::set<std::string> changed = std::exchange(changed_records_, {});
            for (const auto& name : changed) records_in_.index->refresh(name);
        }
        // The resync also sweeps records whose pod namespace is gone (not the start: it would
        // add a stat per record to the cold pass, and after a reboot tmpfs holds none).
        if (std::exchange(sweep_stale_records_, false)) {
            for (const auto& name :
                 remove_stale_records(*records_in_.store, records_in_.index->records(), options_.dry_run)) {
                records_in_.index->refresh(name);
            }
        }
        // Notifications already queued are taken in first, so the cached view is never
        // older than what the kernel has told us; a foreign change among them drops it.
        on_kernel_events();
        const PassSummary summary =
            unchanged_since_clean_pass()
                ? PassSummary{records_in_.index->size(), counters_.eligible_records, target_->size(), 0, 0}
                : reconcile();

        counters_.records = summary.records;
        counters_.eligible_records = summary.eligible_records;
        counters_.routes_installed = summary.routes;
        counters_.last_pass_duration = std::chrono::steady_clock::now() - started;
        const auto level = summary.changes == 0 ? log::Level::debug : log::Level::info;
        log::write(
            level, "pass",
            {kv("reasons", fmt::join(reasons, ",")), kv("records", summary.records),
             kv("eligible", summary.eligible_records), kv("routes", summary.routes), kv("changes", summary.changes),
             kv("errors", summary.errors),
             kv("us", std::chrono::duration_cast<std::chrono::microseconds>(counters_.last_pass_duration).count()),
             kv("cpuUs", thread_cpu_us() - started_cpu_us),
             // Netlink requests sent (writes and dumps): bench/serve_bench expects none from a
             // pass whose inputs did not change.
             kv("netlinkSends", socket_.send_count() - started_sends)});
        if (summary.errors > 0) {
            ++counters_.failed_passes;
            schedule_retry();
        } else {
            retry_backoff_.reset();
            counters_.last_success = std::chrono::system_clock::now();
            health_.set_first_pass_done();
        }
        notify_systemd(summary);
        observe_pass(metrics_, counters_, *target_, summary.errors, summary.errors == 0);
        policy_prefixes_.observe(config_.policy, *target_, drain_.announcing_prefixes());
    } catch (const std::exception& e) {
        kernel_.reset();
        clean_inputs_.reset();
        counters_.last_pass_duration = std::chrono::steady_clock::now() - started;
        observe_pass(metrics_, counters_, *target_, 0, false);
        ++counters_.failed_passes;
        log::error("pass failed; retrying", {kv("reasons", fmt::join(reasons, ",")), kv("error", e.what())});
        schedule_retry();
    }
}

void Server::reload_config() {
    common::NodeConfig next;
    RecordsInput records;
    std::unique_ptr<ReadinessSource> readiness;
    std::unique_ptr<RoutePublisher> publisher;
    try {
        next = common::load_node_config(options_.config_path);
        next.routes = supported_route_settings(next.routes);
        // All or nothing: what the new config needs is made and started before anything that
        // runs is touched, so a config that fails here leaves the running one as it was.
        if (next.state_dir != config_.state_dir) records = open_records(next.state_dir);
        if (!same_readiness(next, config_)) readiness = start_source(next);
        if (next.bird != config_.bird || next.bgp != config_.bgp)
            publisher = make_publisher(io_, next, options_.dry_run);
    } catch (const std::exception& e) {
        if (readiness) readiness->stop();
        metrics_.config_reloads_failure.inc();
        log::error("SIGHUP: new config not applied; the running one stays, the next SIGHUP tries again",
                   {kv("config", options_.config_path), kv("error", e.what())});
        return;
    }
    log::info("SIGHUP: applying the new config", {kv("config", options_.config_path)});
    const common::NodeConfig previous = std::exchange(config_, std::move(next));
    if (previous.routes != config_.routes) {
        kernel_.reset();  // another table, another view
        // Another ECMP mode or group shape needs no withdrawal: the next pass rewrites them.
        if (!options_.dry_run && !common::same_route_placement(previous.routes, config_.routes)) {
            move_routes(previous.routes);
        }
        check_nexthop_compat_mode(config_.routes);
    }
    if (records.store) use_records(std::move(records));
    if (readiness) use_readiness(std::move(readiness));
    node_config_changed(previous);
    if (!options_.dry_run) {
        if (!same_readiness(previous, config_) || previous.annotation != config_.annotation) {
            make_kube_clients(config_);
        }
        if (records.store) listen_for_lookups(config_.state_dir);
    }
    if (publisher) {
        source_counts_.retire(*publisher_);
        publisher_ = std::move(publisher);
        watch_publisher();
        publisher_->set_attributes(render_bird_attributes(config_.bgp, drain_.drain_local_preference()));
        published_.reset();
    }
    write_bird_conf();
    metrics_.config_reloads_success.inc();
    // The endpoint's socket and the log sink are set up once, at start.
    if (previous.metrics != config_.metrics || previous.log_file != config_.log_file ||
        previous.log_level != config_.log_level) {
        log::warn("SIGHUP: metrics.listen, logFile and logLevel take effect at the next start");
    }
    resync_timer_.cancel();
    arm_resync();
    // Records need no re-read: inotify keeps them current (a new stateDir rescans above).
    trigger_.request("reload");
}

void Server::shut_down(int signal) { finish_shut_down(signal); }

void Server::finish_shut_down(int signal) {
    log::info("serve stopping", {kv("signal", strsignal(signal)), kv("withdraw", options_.withdraw_on_exit)});
    if (options_.withdraw_on_exit && !options_.dry_run) {
        try {
            const std::size_t removed = withdraw_all(socket_, config_.routes);
            publisher_->publish({});
            log::info("routes withdrawn on exit", {kv("removed", removed)});
        } catch (const std::exception& e) {
            log::error("withdraw on exit failed", {kv("error", e.what())});
            exit_code_ = 1;
        }
    }
    systemd_.notify("STOPPING=1");
    if (readiness_) readiness_->stop();
    node_watcher_.reset();
    io_.stop();
}

}  // namespace anycast::reconciler
