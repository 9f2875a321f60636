#include "cni/plugin.hpp"

#include "cni/error_json.hpp"
#include "cni/versions.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

#include <boost/json.hpp>

#include <cstdlib>

namespace anycast::cni {

namespace log = common::log;
using common::CniError;

EnvLookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

namespace {

std::string version_result() {
    boost::json::array supported;
    for (auto v : k_supported_versions) supported.emplace_back(v);
    boost::json::object result;
    result["cniVersion"] = k_current_version;
    result["supportedVersions"] = std::move(supported);
    return boost::json::serialize(result);
}

}  // namespace

int run_plugin(const EnvLookup& env, const std::string& stdin_text, std::string& out) {
    (void)stdin_text;
    const std::string command = env("CNI_COMMAND").value_or("");
    try {
        if (command == "VERSION") {
            out = version_result();
            return 0;
        }
        throw CniError(common::cni_code::invalid_environment, "CNI_COMMAND: unknown command \"" + command + "\"",
                       "supported: ADD, DEL, CHECK, GC, STATUS, VERSION");
    } catch (const CniError& e) {
        log::error("CNI command failed", {log::kv("command", command), log::kv("code", e.code()),
                                           log::kv("error", e.what())});
        out = error_json(k_current_version, e.code(), e.what(), e.details());
        return 1;
    }
}

}  // namespace anycast::cni
