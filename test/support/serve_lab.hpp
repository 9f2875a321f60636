// A lab for serve's integration tests: a temp state dir, a node config with the `file`
// readiness source, veth "pods" in named namespaces (no CNI: records are written directly
// through the store, as the contract in docs/architecture.md section 5 allows), and serve as a child.
// Construct it after PrivateNetns: everything lives in the test's private namespace.
#pragma once

#include "common/netlink/monitor.hpp"
#include "common/pod_state.hpp"
#include "common/store/record_store.hpp"
#include "test/support/background_process.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <boost/json.hpp>

#include <deque>

#include <memory>
#include <string>
#include <vector>

namespace anycast::test {

struct ServePod {
    std::string name;  // pod name in namespace "dns"
    std::unique_ptr<NamedNetns> ns;
    std::string host_end;  // node-side veth
    std::string v4, v6;    // the pod's addresses: the next hops
};

class ServeLab {
public:
    static constexpr const char* anycast_v4 = "10.255.53.53";
    static constexpr const char* anycast_v6 = "fd00:255::53";

    explicit ServeLab(int resync_seconds = 3600);

    TempDir dir{"serve"};
    boost::json::object config;
    std::deque<ServePod> pods;  // deque: add_pod keeps earlier references valid

    std::string config_path() const { return dir.file("config.json"); }
    std::string log_path() const { return dir.file("serve.log"); }
    std::string state_dir() const { return dir.file("state"); }
    void write_config() const;

    // A veth pod with index i: 10.0.0.(10+i), fd00::(10+i), host routes to them on the veth.
    ServePod& add_pod(int index);
    // Adds pods 1..n, writes their records and marks them all ready in the readiness file.
    void add_ready_pods(int n);
    // (Re)creates the pod's veth pair and host routes, e.g. after it was deleted.
    void make_link(const ServePod& pod);
    void write_record(const ServePod& pod, const std::vector<std::string>& ips = {anycast_v4, anycast_v6});
    void remove_record(const ServePod& pod);
    // Writes pods.json atomically (temp file + rename), like a careful writer.
    void set_pods(const std::vector<common::PodState>& states) const;
    static common::PodState ready(const ServePod& pod) { return {"dns", pod.name, "", true, false}; }
    static common::PodState deleting(const ServePod& pod) { return {"dns", pod.name, "", true, true}; }
    static common::PodState not_ready(const ServePod& pod) { return {"dns", pod.name, "", false, false}; }

    std::unique_ptr<BackgroundProcess> start_serve(const std::vector<std::string>& extra = {}) const;
    // The usual start: `ready_pods` ready pods (add_ready_pods), serve started, and our routes
    // to both anycast IPs via exactly those pods in place. Throws with serve's log when they
    // never appear.
    std::unique_ptr<BackgroundProcess> start_serving(int ready_pods, const std::vector<std::string>& extra = {});

    // Runs an `ip route show table 241 ...` command; "" when the table does not exist (yet).
    static std::string show(const std::string& command);
    // `ip route show` of our table, both families.
    static std::string routes();
    // Our route for the IPv4 anycast address with its hops, e.g.
    // "10.255.53.53 proto 241 nexthop via 10.0.0.11 dev x ..." ("" when absent).
    static std::string v4_route();
    static std::string v6_route();
    // The next hops (pod IPs) of our route to `destination`, sorted; empty when absent.
    static std::vector<std::string> hops(const std::string& destination);

    // Our routes to both anycast IPs have exactly these pods as next hops.
    static bool routed_via(const std::vector<const ServePod*>& via);
    bool wait_routed_via(const std::vector<const ServePod*>& via) const;

    std::string log() const;
    // Waits for a log line containing `text` (serve logs passes at debug level with logLevel debug).
    bool wait_log(const std::string& text, std::size_t occurrences = 1) const;
};

// One series scraped from serve's /metrics at `listen`, or -1 while the endpoint does not
// answer or lacks the series.
double scraped(const std::string& listen, const std::string& series);
bool wait_scraped(const std::string& listen, const std::string& series, double expected);

// Counts route additions/deletions of table 241 seen by a netlink monitor opened now.
class RouteEventCounter {
public:
    RouteEventCounter();
    // Drains pending events; returns totals since construction.
    void drain();
    int added = 0;
    int deleted = 0;
    std::vector<std::string> seen;  // "added 10.255.53.53/32" ...

private:
    common::netlink::Monitor monitor_;
};

}  // namespace anycast::test
