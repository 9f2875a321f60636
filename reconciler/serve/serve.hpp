// `serve`: the event-driven reconciler (docs/architecture.md section 6). One io_context, one thread;
// records (inotify), readiness, kernel events (netlink monitor), a periodic resync and
// SIGHUP all request a pass through one PassTrigger.
#pragma once

#include "common/backoff.hpp"
#include "common/netlink/monitor.hpp"
#include "common/netlink/socket.hpp"
#include "common/config/node_config.hpp"
#include "common/kube/node_watcher.hpp"
#include "common/store/record_store.hpp"
#include "reconciler/pipeline/desired_route.hpp"
#include "reconciler/metrics/health.hpp"
#include "reconciler/serve/kernel_routes.hpp"
#include "common/inotify_watch.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/metrics/metrics_server.hpp"
#include "reconciler/serve/drain.hpp"
#include "reconciler/serve/pass_trigger.hpp"
#include "reconciler/serve/pod_lookup.hpp"
#include "reconciler/serve/pod_lookup_server.hpp"
#include "reconciler/serve/pod_reporter.hpp"
#include "reconciler/readiness/readiness_source.hpp"
#include "reconciler/pipeline/record_index.hpp"
#include "reconciler/pipeline/route_publisher.hpp"
#include "reconciler/metrics/serve_counters.hpp"
#include "reconciler/metrics/serve_metrics.hpp"
#include "reconciler/serve/systemd_notify.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

struct ServeOptions {
    std::string config_path;        // re-read on SIGHUP
    bool dry_run = false;           // log what a pass would change; write nothing
    bool withdraw_on_exit = false;  // remove our routes on SIGTERM/SIGINT
    bool drain_on_exit = false;     // SIGTERM/SIGINT: drain first (graceful, then withdrawn), then exit
};

class Server {
public:
    // Opens the netlink sockets; throws (NetlinkError, SystemError) when it cannot.
    Server(ServeOptions options, common::NodeConfig config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Runs until SIGTERM or SIGINT; returns the process exit code.
    int run();

    const ServeCounters& counters() const { return counters_; }

private:
    void start_inputs();
    void start_metrics();
    // What serve asks and tells the apiserver beside its watch, with one load of the Kubernetes
    // access: the CNI plugin's pod lookups (answered on serve.sock) and the pods' readiness
    // gate and events. Failures are logged: routes matter more than either.
    void make_kube_clients(const common::NodeConfig& config);
    // The pods' announcements after a pass, a drain change or BIRD taking a set in, handed
    // to the reporter (issue 18 items 2 and 3). Requests coalesce into one report on the
    // loop: a pass that publishes makes a publisher without a speaker mark the set applied at
    // once, which would otherwise judge every pod twice.
    void request_pod_report();
    void report_pods();
    void watch_publisher();
    void listen_for_lookups(const std::string& state_dir);
    // A command on serve.sock (drain, undrain, drain-status): the answer line.
    std::string answer_command(const std::string& command);
    // The Node object's drain reasons (issue 18 item 1): (re)starts the node watch when
    // watches_node(config_), stops it otherwise; its reasons replace the node source's.
    void watch_node();
    void node_changed();
    // After SIGHUP: watch anew when what the watch is made from changed, else re-judge the
    // last known node against the new drain.taints.
    void node_config_changed(const common::NodeConfig& previous);
    // At start, until the Node object is listed (at most k_node_sync_hold): nothing is
    // published, so a serve restarted on a cordoned node does not announce before it knows.
    bool holding_for_node() const;
    // The node watch's counts for the metrics; nullopt when there is no watch.
    std::optional<NodeWatchCounts> node_watch_counts() const;
    // The drain moved: the attributes and the announced set follow; an exit waiting for the
    // drain goes on once it is drained.
    void drain_changed();
    // After a drain on exit: stop once the empty set has reached BIRD, or at `deadline`.
    void exit_when_published(std::chrono::steady_clock::time_point deadline);
    // What serve reads the records through, for one state directory.
    struct RecordsInput {
        std::unique_ptr<common::RecordStore> store;
        std::unique_ptr<RecordIndex> index;
        std::unique_ptr<common::InotifyWatch> records_watch;
        std::unique_ptr<common::InotifyWatch> state_dir_watch;  // records/ itself replaced
    };
    // Makes and watches records/ under `state_dir`; touches nothing that runs, so a failure
    // (thrown) leaves the current input as it was. use_records() then swaps it in.
    RecordsInput open_records(const std::string& state_dir);
    void use_records(RecordsInput input);
    // Likewise for the readiness source: made and started, then swapped in (the old one stopped).
    std::unique_ptr<ReadinessSource> start_source(const common::NodeConfig& config);
    void use_readiness(std::unique_ptr<ReadinessSource> source);
    void move_routes(const common::RouteSettings& old_settings);
    void arm_monitor();
    void on_kernel_events();
    void kernel_changed(std::string_view reason);
    void arm_resync();
    void arm_signals();
    void schedule_retry();
    // What a pass did, for its log line, the counters and the metrics.
    struct PassSummary {
        std::size_t records = 0;
        std::size_t eligible_records = 0;
        std::size_t routes = 0;  // installed
        std::size_t changes = 0;
        std::size_t errors = 0;
    };
    void pass(const std::set<std::string>& reasons);
    bool unchanged_since_clean_pass() const;
    PassSummary reconcile();
    void publish(const std::vector<common::Prefix>& installed);
    // bird.config: the bird.conf generated from `bgp`, written when its text changed (at start
    // and on SIGHUP), then BIRD reconfigured. A failure is logged; the last file stays.
    void write_bird_conf();
    void reload_config();
    void shut_down(int signal);
    void finish_shut_down(int signal);
    void log_skipped(const std::vector<Skipped>& skipped);
    void notify_systemd(const PassSummary& summary);

    boost::asio::io_context io_;
    ServeOptions options_;
    common::NodeConfig config_;
    common::netlink::Socket socket_;
    common::netlink::Monitor monitor_;
    boost::asio::posix::stream_descriptor monitor_descriptor_;  // borrows monitor_'s fd
    boost::asio::steady_timer resync_timer_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::signal_set signals_;
    PassTrigger trigger_;
    RecordsInput records_in_;
    std::unique_ptr<ReadinessSource> readiness_;
    std::unique_ptr<RoutePublisher> publisher_;
    ServeCounters counters_;
    Metrics metrics_;
    SourceCountsFeed source_counts_{metrics_};
    PolicyPrefixFeed policy_prefixes_{metrics_};  // BIRD reloads, watch restarts: copied in at each scrape
    Health health_;
    SystemdNotifier systemd_;
    bool systemd_told_ready_ = false;
    std::unique_ptr<MetricsServer> metrics_server_;
    Drain drain_{io_, [this] { drain_changed(); }};
    std::unique_ptr<common::kube::NodeWatcher> node_watcher_;
    std::chrono::steady_clock::time_point node_hold_until_{};
    boost::asio::steady_timer node_hold_timer_{io_};
    std::optional<std::vector<common::Prefix>> installed_prefixes_;  // the last pass's, for drain changes
    int exit_signal_ = 0;  // non-zero: SIGTERM came with --drain-on-exit; exit once drained
    boost::asio::steady_timer exit_timer_{io_};
    std::unique_ptr<PodLookup> pod_lookup_;
    std::unique_ptr<PodLookupServer> pod_lookup_server_;  // after pod_lookup_: goes first
    std::unique_ptr<PodReporter> pod_reporter_;           // null without Kubernetes
    bool pod_report_posted_ = false;                      // request_pod_report() queued one
    int exit_code_ = 0;

    // Routes held once and shared: after a clean pass the installed set and the cached
    // kernel view are the same routes (thousands of them with a large node).
    using SharedRoutes = std::shared_ptr<const std::vector<common::netlink::Route>>;
    static SharedRoutes share(std::vector<common::netlink::Route> routes) {
        return std::make_shared<const std::vector<common::netlink::Route>>(std::move(routes));
    }
    // Nexthop objects, held once and shared the same way (40 000 with 20 000 resilient routes).
    using SharedNexthops = std::shared_ptr<const common::netlink::NexthopTable>;
    // Our routes and the links as of the last dump plus our own applied changes.
    struct CachedKernel {
        SharedRoutes routes;
        LinkTable links;
        SharedNexthops nexthops;
    };
    // The routes the last pass installed, sorted by destination: to tell our own changes
    // echoed by the monitor from someone else's. Never null.
    SharedRoutes target_ = share({});
    // Our nexthop objects as the last pass left them (`ours`, sorted by id): the same, for
    // nexthop events. Never null.
    SharedNexthops target_nexthops_ = std::make_shared<const common::netlink::NexthopTable>();
    const common::netlink::Route* find_target(const common::Prefix& destination) const;
    std::set<std::string> referenced_ifaces_;
    // Dropped (re-read by the next pass) on any foreign route or link event, a monitor
    // overrun, a refused change, resync and retry. A readiness flip then costs no kernel dump.
    std::optional<CachedKernel> kernel_;
    // The inputs of the last clean pass; see unchanged_since_clean_pass().
    struct CleanInputs {
        std::uint64_t records_generation = 0;
        ReadinessSnapshot pods;
        common::Policy policy;
    };
    std::optional<CleanInputs> clean_inputs_;
    // resolve's records × policy part (PreparedRecords), kept while neither changes: a pass
    // after a readiness change then costs O(the pods and their records), not O(all records).
    struct Prepared {
        std::uint64_t records_generation;
        common::Policy policy;
        PreparedRecords records;  // points into records_in_.index
    };
    std::optional<Prepared> prepared_;
    std::optional<std::vector<common::Prefix>> published_;  // nullopt: not yet published
    std::set<std::string> logged_skips_;
    // Record files named by inotify since the last pass: only these are re-read, so a
    // readiness flip or kernel event costs no directory scan of thousands of files. A full
    // rescan (stat-compare) happens at start, on queue overflow, resync, retry and when
    // stateDir changes.
    std::set<std::string> changed_records_;
    bool rescan_records_ = true;
    bool sweep_stale_records_ = false;  // at the next pass: remove records whose netns is gone
    bool reopen_records_ = false;       // records/ itself went away: watch its path anew
    bool waiting_logged_ = false;
    // From 250 ms up; each delay is also capped at the resync period (which SIGHUP may change).
    common::Backoff retry_backoff_{std::chrono::milliseconds(250), std::chrono::hours(1)};
};

}  // namespace anycast::reconciler
