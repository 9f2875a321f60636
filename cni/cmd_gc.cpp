// GC (CNI spec 1.1; docs/architecture.md section 4): remove this network's records whose attachment is
// not in cni.dev/valid-attachments, and their IPs from lo where the netns still exists.
#include "cni/commands.hpp"
#include "cni/pod_loopback.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/log.hpp"
#include "common/store/record_store.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace anycast::cni {

namespace log = common::log;

void cmd_gc(const Invocation& invocation) {
    const auto& config = invocation.config;
    if (!version_at_least(config.cni_version, "1.1.0")) {
        throw CniError(cni_code::incompatible_version,
                       fmt::format("cniVersion: GC needs 1.1.0, the config says {}", config.cni_version));
    }
    auto valid = config.valid_attachments;
    std::sort(valid.begin(), valid.end());
    common::RecordStore store(config.node.state_dir);
    common::StoreLock lock(store);
    std::size_t removed = 0;
    for (const auto& record : store.list()) {
        if (record.network != config.name) continue;
        if (std::binary_search(valid.begin(), valid.end(), Attachment{record.container_id, record.ifname})) continue;
        if (!record.netns.empty() && netns_exists(record.netns)) {
            try {
                remove_from_pod_loopback(record.netns, record.ips);
            } catch (const std::exception& e) {
                log::warn("GC: could not remove anycast IPs from a stale attachment's lo",
                          {log::kv("netns", record.netns), log::kv("error", e.what())});
            }
        }
        store.remove(record.network, record.container_id, record.ifname);
        log::info("GC: removed a stale attachment",
                  {log::kv("staleContainer", record.container_id), log::kv("ifname", record.ifname)});
        ++removed;
    }
    log::info("GC done", {log::kv("removed", removed), log::kv("valid", valid.size())});
}

}  // namespace anycast::cni
