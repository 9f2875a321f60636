// A reusable BIRD lab for integration tests, the benchmark and the demo: real BIRD 2
// processes in named namespaces, never the host's BIRD. BirdLab wires the topology of
// docs/bird.md ("Code and tests"): a `node` namespace (AS 65001) running BIRD with the shipped
// examples/bird/node-bird.conf + flock.conf, a `router` namespace (AS 65000) running
// examples/bird/router-bird.conf, joined by a veth with eBGP over IPv4 and IPv6, and two pod
// namespaces behind the node, each with the anycast /32 and /128 on `lo`.
#pragma once

#include "test/support/background_process.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <memory>
#include <chrono>
#include <string>
#include <vector>

namespace anycast::test {

// `ip monitor route` in a namespace, logging to `log_path`; ready when constructed (a marker
// route added after the start has shown up in the log).
class RouteMonitorLog {
public:
    RouteMonitorLog(const NamedNetns& ns, std::string log_path);
    // Stops the monitor and returns everything it saw.
    std::string stop();

private:
    std::string log_path_;
    BackgroundProcess process_;
};

// The whole file; throws when it cannot be opened.
std::string read_text_file(const std::string& path);
// How many lines of an `ip monitor route` log delete a route to `address` ("10.255.53.53").
int monitor_deletions(const std::string& log, const std::string& address);

// The text of examples/bird/<name> made runnable in `dir`: /etc/bird/ paths point into `dir`
// and BIRD logs to <dir>/<log_name> instead of syslog.
std::string example_bird_config(const std::string& name, const std::string& dir, const std::string& log_name);
// The rendered include for an empty set, so BIRD can start before the first publish.
std::string empty_bird_sets();

// One BIRD daemon: `ip netns exec <ns> bird -f -c <dir>/<name>.conf -s <dir>/<name>.ctl`.
class BirdDaemon {
public:
    BirdDaemon(std::string netns, std::string dir, std::string name, const std::string& config_text);
    ~BirdDaemon();

    void start();      // and wait until its control socket answers
    void kill_hard();  // SIGKILL: no clean shutdown, like a crash
    bool running() const { return process_ && process_->running(); }
    // BIRD's own pid (`ip netns exec` execs it), 0 when not started: to freeze it (SIGSTOP).
    pid_t pid() const { return process_ ? process_->pid() : 0; }

    const std::string& socket() const { return socket_; }
    const std::string& config_path() const { return config_; }
    const std::string& log_path() const { return log_; }
    // `birdc -s <socket> <command>` output; throws when birdc fails.
    std::string birdc(const std::string& command) const;

private:
    std::string netns_, socket_, config_, pid_file_, log_;
    std::unique_ptr<BackgroundProcess> process_;
};

// A pod's readiness as serve's `file` source reads it (pods.json).
struct LabPodState {
    bool ready;
    bool deleting;
};

struct LabPod {
    std::unique_ptr<NamedNetns> ns;
    std::string node_iface;  // the node's end of the pod's veth
    std::string v4;          // the pod's own addresses: next hops for the anycast routes
    std::string v6;
};

class BirdLab {
public:
    static constexpr const char* anycast_v4 = "10.255.53.53";
    static constexpr const char* anycast_v6 = "fd00:255::53";
    static constexpr unsigned table = 241;
    static constexpr unsigned protocol = 241;

    // Builds the namespaces and links, starts both BIRDs and waits until both BGP sessions
    // are Established.
    BirdLab();
    ~BirdLab();

    TempDir dir{"lab"};
    NamedNetns node{"nd"};
    NamedNetns router{"rt"};
    std::vector<LabPod> pods;
    std::string fragment_path;  // the include the publisher writes
    std::unique_ptr<BirdDaemon> node_bird;
    std::unique_ptr<BirdDaemon> router_bird;

    // The router's kernel route for `prefix` ("10.255.53.53/32"), empty when it has none.
    std::string router_route(const std::string& prefix) const;
    bool router_has(const std::string& prefix) const { return !router_route(prefix).empty(); }
    // Both sessions Established, seen from the router.
    bool sessions_established() const;
    // The router's "since" time of a BGP protocol ("node4", "node6"), as milliseconds of the
    // day. BIRD keeps the instant on its monotonic clock and prints it through the wall clock,
    // so two reads of one unchanged session may differ by a millisecond (seen once): compare
    // with a tolerance, a session reset moves it by far more.
    std::chrono::milliseconds session_since(const std::string& protocol) const;
    // `ip route replace <prefix> proto 241 table 241` in the node with one nexthop per pod
    // index (one replace with the whole hop set, as serve does); empty: delete the route.
    void set_node_route(const std::string& prefix, const std::vector<int>& pod_indexes);
    // The number of next hops BIRD learnt for `prefix` into flock4/flock6 (0: not learnt).
    int node_bird_hops(const std::string& prefix) const;

    // serve beside the node's BIRD (issue 7 item 5): a node config using the `file`
    // readiness source and this lab's include and socket, one record per pod ("pod-1",
    // "pod-2" in namespace dns, both anycast addresses), and all pods not ready; the metrics
    // endpoint at `metrics_listen` ("" for none).
    void prepare_serve(const std::string& metrics_listen = "");
    // Rewrites pods.json atomically: states[i] is pod i's.
    void set_readiness(const std::vector<LabPodState>& states) const;
    // `ip netns exec <node> flock-anycast serve --config <dir>/config.json`, logging to
    // <dir>/serve.log.
    std::unique_ptr<BackgroundProcess> start_serve() const;
};

}  // namespace anycast::test
