// STATUS (CNI spec 1.1): ready to take ADDs when the state directory is usable, else code 50.
#include "cni/commands.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/store/record_store.hpp"

#include <fmt/format.h>

namespace anycast::cni {

void cmd_status(const Invocation& invocation) {
    const auto& config = invocation.config;
    if (!version_at_least(config.cni_version, "1.1.0")) {
        throw CniError(cni_code::incompatible_version,
                       fmt::format("cniVersion: STATUS needs 1.1.0, the config says {}", config.cni_version));
    }
    try {
        common::RecordStore(config.node.state_dir).check_usable();
    } catch (const common::StoreError& e) {
        throw CniError(cni_code::plugin_not_available,
                       fmt::format("state directory {} is not usable: {}", config.node.state_dir, e.what()));
    }
}

}  // namespace anycast::cni
