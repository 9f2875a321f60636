// ADD (docs/architecture.md section 4): check everything that can be checked before anything changes —
// prevResult, netns, requested IPs, policy, next hops, the store — then add the IPs to the
// pod's lo and write the record under the store lock, rolling the IPs back if the write fails.
#include "cni/commands.hpp"
#include "cni/next_hops.hpp"
#include "cni/pod_loopback.hpp"
#include "cni/spec/result.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/log.hpp"
#include "common/config/policy.hpp"
#include "common/store/record_store.hpp"
#include "common/utc_time.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace anycast::cni {

namespace log = common::log;
namespace code = cni_code;

namespace {

void check_netns(const std::string& path) {
    if (!netns_exists(path)) {
        throw CniError(code::invalid_environment, fmt::format("CNI_NETNS: {}: {}", path, std::strerror(errno)));
    }
}

void check_policy(const common::Policy& policy, const common::PodRef& pod, const std::vector<common::IpAddress>& ips) {
    for (const auto& ip : ips) {
        if (auto why = common::policy_refusal(policy, pod.namespace_, ip)) {
            throw CniError(code::policy_refused, fmt::format("policy refuses anycast IP {}: {}", ip, *why),
                           fmt::format("pod namespace \"{}\"", pod.namespace_));
        }
    }
}

}  // namespace

std::string cmd_add(const Invocation& invocation) {
    const auto& env = invocation.env;
    const auto& config = invocation.config;
    if (!config.prev_result) {
        throw CniError(code::invalid_config, "prevResult: missing",
                       "flock-anycast must be chained after the plugin that creates the pod's interface");
    }
    check_netns(env.netns);
    const auto ips = attachment_ips(invocation, true);
    auto result = convert_result(*config.prev_result, config.cni_version);
    if (ips.empty()) {
        log::info("no anycast IPs requested; passing prevResult through");
        return boost::json::serialize(result);
    }
    const auto pod = pod_ref(env);
    check_policy(config.node.policy, pod, ips);

    common::Record record;
    record.network = config.name;
    record.container_id = env.container_id;
    record.ifname = env.ifname;
    record.netns = env.netns;
    record.pod = pod;
    record.ips = ips;
    record.nexthops = resolve_next_hops(*config.prev_result, ips, env.ifname);
    record.created = common::utc_now(common::k_rfc3339_utc);

    common::RecordStore store(config.node.state_dir);
    common::StoreLock lock(store);
    try {
        store.get(config.name, env.container_id, env.ifname);
    } catch (const common::CorruptRecordError& e) {
        throw CniError(code::state_store_failure, e.what(), "run DEL for this attachment to clear it");
    }
    std::vector<common::IpAddress> added;
    try {
        added = add_to_pod_loopback(env.netns, ips);
    } catch (const std::exception& e) {
        // The netns passed check_netns but is gone now (the sandbox torn down during ADD):
        // the same fault as a CNI_NETNS that does not open, so the same code 4, not the
        // I/O failure (5) it would be by the timing alone (test/reliability/faults_cni_test.cpp).
        if (!netns_exists(env.netns)) {
            throw CniError(code::invalid_environment,
                           fmt::format("CNI_NETNS: {}: vanished during ADD: {}", env.netns, e.what()));
        }
        throw;
    }
    try {
        store.put(record);
    } catch (...) {
        try {
            remove_from_pod_loopback(env.netns, added);
        } catch (const std::exception& e) {
            log::error("rollback: could not remove the anycast IPs from lo", {log::kv("error", e.what())});
        }
        throw;
    }
    // The result is the main plugin's, not listing the anycast IPs: libcni hands the chain's
    // final result to every plugin's CHECK, and ptp's and bridge's insist that each of its IPs
    // is on their interface (docs/cni.md, "CHECK through a runtime").
    log::info("anycast IPs added", {log::kv("ips", ips.size()), log::kv("netns", env.netns)});
    return boost::json::serialize(result);
}

}  // namespace anycast::cni
