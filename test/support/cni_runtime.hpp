// Acting as a CNI runtime in tests: runs Debian's reference plugins from /usr/lib/cni and
// flock-anycast as executables, with the CNI_* environment and the network config on stdin,
// the way libcni chains a conflist (each plugin gets the previous one's result).
#pragma once

#include "test/support/process.hpp"

#include <boost/json.hpp>

#include <map>
#include <string>

namespace anycast::test {

inline constexpr const char* k_reference_plugins = "/usr/lib/cni";

struct CniCall {
    std::string command;  // ADD, DEL, CHECK, GC, STATUS, VERSION
    std::string container_id;
    std::string netns;
    std::string ifname = "eth0";
    std::string cni_args;
    std::map<std::string, std::string> extra_env;  // e.g. FLOCK_TEST_FAULT
};

// Runs `binary` with the call's environment (and PATH, CNI_PATH) and `config` on stdin;
// SIGKILLed (exit code 137) if still running after `kill_after_seconds`.
ProcessResult run_cni(const std::string& binary, const CniCall& call, const std::string& config,
                      double kill_after_seconds = 60);

// The parsed stdout of a call; throws std::runtime_error with stdout/stderr when it is not JSON.
boost::json::object json_out(const ProcessResult& result);

enum class MainPlugin { ptp, bridge };

// One chain: a main plugin (ptp or bridge with host-local IPAM, IPv4 + IPv6) then
// flock-anycast with the previous result, as a runtime runs a conflist.
class Chain {
public:
    // `bridge_name` is only used for MainPlugin::bridge (unique per test).
    Chain(MainPlugin main, std::string version, std::string state_dir, std::string ipam_dir,
          std::string bridge_name = {});

    // The main plugin's network config (no prevResult).
    std::string main_config() const;
    // flock-anycast's plugin entry: `fields` (node-config overrides, runtimeConfig, ...)
    // merged over {cniVersion, name, type, stateDir, policy, readiness always}, plus prevResult when given.
    std::string flock_config(const boost::json::object& fields = {},
                             const boost::json::value* prev_result = nullptr) const;

    // Runs the main plugin's ADD; throws with its output on failure.
    boost::json::object add_main(const CniCall& call) const;
    ProcessResult del_main(const CniCall& call) const;

    const std::string& version() const { return version_; }
    const std::string& network() const { return network_; }
    const std::string& state_dir() const { return state_dir_; }

private:
    MainPlugin main_;
    std::string version_;
    std::string state_dir_;
    std::string ipam_dir_;
    std::string bridge_name_;
    std::string network_ = "flocknet";
};

// `ip -o addr show dev lo` inside a netns, reduced to the addresses ("10.255.53.53/32").
std::string lo_addresses(const std::string& netns_name);

// The files in a directory, sorted, one per line ("" when it does not exist).
std::string list_dir(const std::string& path);

}  // namespace anycast::test
