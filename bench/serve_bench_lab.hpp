// serve_bench's and serve_flip_bench's lab, in the caller's private network namespace: five
// veths standing for pods' host ends, record stores of a given shape written as the store
// would leave them, serve's config, and the same routes (nexthop objects, groups) as an
// `ip -batch` file, the floor serve's cold pass is read against.
#pragma once

#include "common/config/node_config.hpp"
#include "common/store/record.hpp"

#include <chrono>
#include <string>

namespace anycast::bench {

// A record store: `ips` anycast IPs, each claimed by `hops` pods (one record each).
struct Shape {
    std::string name;
    int ips = 0;
    int hops = 1;
    bool dual_stack = false;  // each record an IPv4 and an IPv6 anycast IP
    common::EcmpMode ecmp = common::EcmpMode::resilient;
    // Single-pod IPs spread over this many veths. The kernel hashes a route's next-hop info
    // by interface, not gateway, so each insert walks the routes already on its interface:
    // 100 000 routes over 5 veths took `ip -batch` 156 s, over 500 veths 4.1 s. Growth
    // figures use 500, so they show serve's growth and not that walk.
    int veths = 5;

    int records() const { return ips * hops; }
    int routes() const { return ips * (dual_stack ? 2 : 1); }
};

class ServeBenchLab {
public:
    static constexpr int k_veths = 5;         // with IPv4 and IPv6 addresses
    static constexpr int k_more_veths = 500;  // the first k_veths of them, plus more without

    // Makes the veths in the current network namespace.
    explicit ServeBenchLab(std::string dir);

    // A state directory `<dir>/<name>` holding the shape's records; returns its path.
    std::string write_state(const Shape& shape, const std::string& name) const;
    // One extra record whose pod is "flip" (its own anycast IP); returns that IP's prefix text.
    std::string write_flip_record(const std::string& state) const;
    // serve's config; `extra_prefix` adds an allowed prefix no record uses (a policy change
    // that changes no route).
    void write_config(const std::string& path, const std::string& state, const std::string& readiness_json,
                      common::EcmpMode ecmp, bool extra_prefix = false) const;
    // The shape's routes as serve installs them, as `ip -batch` lines; returns the file's path.
    std::string write_ip_batch(const Shape& shape, const std::string& name) const;

    // Our routes and nexthop objects gone (table 241, protocol 241).
    static void flush();
    static std::size_t route_count();

    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

// `/proc/<pid>/status`'s VmHWM, in KiB (0 when unreadable).
double peak_rss_kib(int pid);

double ms_since(std::chrono::steady_clock::time_point start);

}  // namespace anycast::bench
