// DEL (docs/architecture.md section 4): undo ADD as far as anything is left. A missing netns, record or
// address is success, and so is a second DEL (CNI spec: DEL must be idempotent).
#include "cni/commands.hpp"
#include "cni/pod_loopback.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/log.hpp"
#include "common/store/record_store.hpp"

#include <algorithm>

namespace anycast::cni {

namespace log = common::log;
using common::IpAddress;

namespace {

std::vector<IpAddress> del_ips(const Invocation& invocation, common::RecordStore& store) {
    const auto& env = invocation.env;
    std::vector<IpAddress> ips;
    try {
        if (auto record = store.get(invocation.config.name, env.container_id, env.ifname)) ips = record->ips;
    } catch (const common::CorruptRecordError& e) {
        log::warn("DEL: the record is corrupt; moving it aside", {log::kv("error", e.what())});
        store.quarantine(invocation.config.name, env.container_id, env.ifname);
    } catch (const common::RecordTooNewError& e) {
        // Written by a newer build (a downgrade): the attachment goes, so its record goes too;
        // its IPs are the config's, below.
        log::warn("DEL: removing a record of a newer build", {log::kv("error", e.what())});
        store.remove(invocation.config.name, env.container_id, env.ifname);
    }
    // Also what the config asks for: an ADD that died after adding IPs but before writing
    // the record left them on lo without a record. A bad IP in the config must not stop DEL.
    try {
        for (const auto& ip : attachment_ips(invocation, false)) ips.push_back(ip);
    } catch (const CniError& e) {
        log::warn("DEL: ignoring the requested IPs", {log::kv("error", e.what())});
    }
    std::sort(ips.begin(), ips.end());
    ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
    return ips;
}

}  // namespace

void cmd_del(const Invocation& invocation) {
    const auto& env = invocation.env;
    common::RecordStore store(invocation.config.node.state_dir);
    common::StoreLock lock(store);
    const auto ips = del_ips(invocation, store);
    if (!env.netns.empty() && netns_exists(env.netns)) {
        remove_from_pod_loopback(env.netns, ips);
    } else if (!ips.empty()) {
        log::info("DEL: the netns is gone, so are its addresses", {log::kv("netns", env.netns)});
    }
    const bool removed = store.remove(invocation.config.name, env.container_id, env.ifname);
    log::info("anycast attachment deleted", {log::kv("ips", ips.size()), log::kv("recordRemoved", removed)});
}

}  // namespace anycast::cni
