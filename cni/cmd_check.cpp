// CHECK (docs/architecture.md section 4): the record is present and its IPs are on the pod's lo. A
// mismatch is code 3: the attachment is not in the state ADD left it in.
#include "cni/commands.hpp"
#include "cni/pod_loopback.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/store/record_store.hpp"

#include <fmt/format.h>

namespace anycast::cni {

namespace code = cni_code;

namespace {}  // namespace

void cmd_check(const Invocation& invocation) {
    const auto& env = invocation.env;
    const auto& config = invocation.config;
    if (!version_at_least(config.cni_version, "0.4.0")) {
        throw CniError(code::incompatible_version,
                       fmt::format("cniVersion: CHECK needs 0.4.0 or later, the config says {}", config.cni_version));
    }
    if (!config.prev_result) throw CniError(code::invalid_config, "prevResult: missing");
    const auto requested = attachment_ips(invocation, true);
    common::RecordStore store(config.node.state_dir);
    std::optional<common::Record> record;
    try {
        record = store.get(config.name, env.container_id, env.ifname);
    } catch (const common::CorruptRecordError& e) {
        throw CniError(code::state_store_failure, e.what());
    }
    if (!record) {
        if (requested.empty()) return;  // ADD wrote nothing either
        throw CniError(code::unknown_container,
                       fmt::format("no record for attachment {}/{}/{}", config.name, env.container_id, env.ifname),
                       store.record_path(config.name, env.container_id, env.ifname));
    }
    if (record->ips != requested) {
        throw CniError(code::unknown_container,
                       fmt::format("the record lists anycast IPs [{}] but the request asks for [{}]",
                                   fmt::join(record->ips, ", "), fmt::join(requested, ", ")));
    }
    if (!netns_exists(env.netns)) {
        throw CniError(code::invalid_environment, fmt::format("CNI_NETNS: {}: cannot be opened", env.netns));
    }
    const auto missing = missing_from_pod_loopback(env.netns, record->ips);
    if (!missing.empty()) {
        throw CniError(code::unknown_container,
                       fmt::format("anycast IPs missing from lo in {}: {}", env.netns, fmt::join(missing, ", ")));
    }
}

}  // namespace anycast::cni
