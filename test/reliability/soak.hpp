// The soak's model, churn and checks (issue 15 item B.4), shared by its three sources:
// soak_churn.cpp (set-up and churn), soak_checks.cpp (invariants and figures) and
// soak_driver.cpp (the run and main). See soak_driver.cpp for what it does.
#pragma once

#include "common/store/record_store.hpp"
#include "test/support/bird_lab.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/record_builder.hpp"
#include "test/support/serve_lab.hpp"
#include "test/support/wait_until.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace anycast::test::soak {

using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM: the run ends after the current round.
extern std::atomic<bool> g_stop;

struct Options {
    double minutes = 2;
    std::uint64_t seed = 0;
    std::chrono::milliseconds settle{10000};       // kernel == model
    std::chrono::milliseconds bird_settle{10000};  // BIRD == kernel
    // After BIRD or serve was restarted: BGP sessions come up in ~4 s and serve's reloader
    // may be in its backoff (up to 10 s) when the new BIRD starts.
    std::chrono::milliseconds restart_settle{45000};
    // Mean time between kill -9 of serve, and (independently) of BIRD: long enough for one
    // serve to live through many rounds, so its fd and memory figures mean something.
    double kill_every_seconds = 30;
    std::string keep_dir;  // where the lab's logs are copied when a violation was seen
};

constexpr int k_pods = 4;
constexpr int k_slots = 3;  // attachments per pod
constexpr int k_pool = 8;   // anycast addresses per family
const std::string k_plugin_network = "soaknet";
const std::string k_store_network = "soakstore";

inline std::string pool_address(int i) {
    return i < k_pool ? fmt::format("10.255.60.{}", i + 1) : fmt::format("fd00:255::60:{}", i - k_pool + 1);
}
inline std::string with_length(const std::string& address) {
    if (address.find('/') != std::string::npos) return address;
    return address + (address.find(':') != std::string::npos ? "/128" : "/32");
}

// destination ("10.255.60.1/32") → next hops ("10.1.1.2@n-p1"), sorted.
using RouteMap = std::map<std::string, std::set<std::string>>;

// Parses `ip -o route show` lines: the destination, then every "via X ... dev Y" pair.
inline RouteMap parse_routes(const std::string& text) {
    RouteMap out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::replace(line.begin(), line.end(), '\t', ' ');
        std::istringstream words(line);
        std::string destination, word, via;
        if (!(words >> destination)) continue;
        auto& hops = out[with_length(destination)];
        std::string previous;
        while (words >> word) {
            if (previous == "via") via = word;
            if (previous == "dev" && !via.empty()) hops.insert(via + "@" + word);
            previous = word;
        }
    }
    return out;
}

inline std::string describe(const RouteMap& routes) {
    std::string out;
    for (const auto& [destination, hops] : routes) {
        out += "  " + destination + " via";
        for (const auto& hop : hops) out += " " + hop;
        out += "\n";
    }
    return out.empty() ? "  (none)\n" : out;
}

inline std::set<std::string> keys(const RouteMap& routes) {
    std::set<std::string> out;
    for (const auto& [destination, hops] : routes) out.insert(destination);
    return out;
}

inline std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : " ") + item;
    return out.empty() ? "(none)" : out;
}

// Prefixes at the start of `birdc show route` lines ("10.255.60.1/32  unicast [...]").
inline std::set<std::string> bird_prefixes(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first.rfind("10.255.", 0) == 0 || first.rfind("fd00:255:", 0) == 0) out.insert(first);
    }
    return out;
}

// The anycast destinations of an `ip route show` listing.
inline std::set<std::string> anycast_destinations(const std::string& text) {
    std::set<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first.rfind("10.255.", 0) == 0 || first.rfind("fd00:255:", 0) == 0) out.insert(with_length(first));
    }
    return out;
}

struct ProcessSample {
    long fds = -1;
    long rss_kib = -1;
};

inline ProcessSample sample_process(pid_t pid) {
    ProcessSample sample;
    if (DIR* dir = ::opendir(fmt::format("/proc/{}/fd", pid).c_str())) {
        sample.fds = 0;
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] != '.') ++sample.fds;
        }
        ::closedir(dir);
    }
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) sample.rss_kib = std::stol(line.substr(6));
    }
    return sample;
}

// Per serve process: its first sample (after its first converged round) and the latest.
struct Instance {
    pid_t pid = -1;
    ProcessSample first, last, max;
    int samples = 0;
    Clock::time_point started;
};

struct Attachment {
    int pod = 0;
    bool via_plugin = false;
    std::set<int> addresses;  // pool indexes
};

struct PodModel {
    bool ready = true;
    bool deleting = false;
    bool eligible() const { return ready && !deleting; }
};

struct ForeignRoute {
    std::string show;      // the `ip` command that prints it
    std::string expected;  // what it printed right after it was added
    std::string remove;
};

class Soak {
public:
    explicit Soak(Options options) : options_(options), random_(options.seed) {}
    int run();

private:
    // Set-up.
    void add_pod(int index);
    void write_config(int resync_seconds);
    void write_readiness();
    void start_serve();
    std::string node_ip(const std::string& args) const { return "ip -n " + lab_->node.name() + " " + args; }

    // The model.
    RouteMap desired() const;
    std::string hop_of(int pod, bool v6) const;

    // Churn.
    void churn_once();
    void op_add();
    void op_del();
    void op_modify();
    void op_readiness();
    void op_tamper();
    void op_foreign();
    void add_foreign();
    void op_kill_serve();
    void op_kill_bird();
    void restart_due();
    void op_sighup();
    void cni(const std::string& command, const std::string& id, const Attachment& a);
    void put_record(const std::string& id, const Attachment& a);
    std::set<int> random_addresses();
    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(random_) < p; }
    void count(const std::string& kind) { ++churn_[kind]; }

    // Checks.
    RouteMap kernel() const;
    std::set<std::string> include_prefixes() const;
    std::set<std::string> router_set() const;
    std::set<std::string> node_export_set() const;
    bool check_round();
    void violation(const std::string& kind, const std::string& text);
    void sample_serve();

    Options options_;
    std::mt19937_64 random_;
    std::unique_ptr<BirdLab> lab_;
    std::string state_dir_;
    std::vector<PodModel> pods_;
    std::map<std::string, Attachment> attachments_;  // by container ID
    std::vector<ForeignRoute> foreign_;
    int foreign_serial_ = 0;
    std::unique_ptr<BackgroundProcess> serve_;
    int resync_seconds_ = 60;
    bool restarted_this_round_ = false;  // serve or BIRD: the BIRD check may take longer
    Clock::time_point next_kill_serve_, next_kill_bird_;
    std::optional<Clock::time_point> serve_down_until_, bird_down_until_;
    Clock::time_point next_kill(Clock::time_point from) {
        const double mean = options_.kill_every_seconds;
        return from + std::chrono::milliseconds(static_cast<long>(
                          1000 * std::uniform_real_distribution<double>(mean / 2, mean * 1.5)(random_)));
    }
    // What the rounds checked: how big the routed set was.
    long model_routes_total_ = 0, model_hops_total_ = 0;
    std::size_t model_routes_max_ = 0, multipath_rounds_ = 0;

    // Figures.
    std::map<std::string, int> churn_;
    std::map<std::string, int> passed_, failed_;
    int iterations_ = 0;
    int violations_ = 0;
    int serve_kills_ = 0, bird_kills_ = 0, serve_crashes_ = 0;
    std::vector<Instance> instances_;
    std::vector<long> settle_ms_, bird_settle_ms_;
    std::vector<std::string> violation_log_;
};

}  // namespace anycast::test::soak
