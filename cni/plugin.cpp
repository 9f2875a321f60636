#include "cni/plugin.hpp"

#include "cni/commands.hpp"
#include "cni/spec/environment.hpp"
#include "cni/spec/error_json.hpp"
#include "cni/spec/net_config.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/store/record_store.hpp"

#include <boost/json.hpp>

namespace anycast::cni {

namespace log = common::log;
namespace code = cni_code;

namespace {

std::string version_result() {
    boost::json::array supported;
    for (auto v : k_supported_versions) supported.emplace_back(v);
    boost::json::object result;
    result["cniVersion"] = k_current_version;
    result["supportedVersions"] = std::move(supported);
    return boost::json::serialize(result);
}

// Logs go to logFile when configured (falling back to stderr if it cannot be opened) and
// carry the container ID on every line (docs/architecture.md section 4; issue 4 item 5).
void configure_logging(const common::NodeConfig& node) {
    log::Level level = log::Level::info;
    if (log::parse_level(node.log_level, level)) log::set_level(level);
    if (node.log_file.empty()) return;
    try {
        log::log_to_file(node.log_file);
    } catch (const std::exception& e) {
        log::warn("cannot write logFile; logging to stderr", {log::kv("error", e.what())});
    }
}

// Runs the verb; returns what to print on success.
std::string dispatch(const CniEnvironment& env, const std::string& stdin_text,
                     const PodAnnotationFactory& annotations) {
    if (env.verb == Verb::version) return version_result();
    Invocation invocation{env, parse_net_config(stdin_text), annotations};
    configure_logging(invocation.config.node);
    log::set_context({log::kv("containerID", env.container_id.empty() ? "-" : env.container_id),
                      log::kv("command", env.command), log::kv("network", invocation.config.name)});
    switch (env.verb) {
        case Verb::add: return cmd_add(invocation);
        case Verb::del: cmd_del(invocation); return {};
        case Verb::check: cmd_check(invocation); return {};
        case Verb::gc: cmd_gc(invocation); return {};
        case Verb::status: cmd_status(invocation); return {};
        case Verb::version: break;
    }
    return version_result();
}

int fail(const std::string& stdin_text, int error_code, const std::string& msg, const std::string& details,
         std::string& out) {
    log::error("CNI command failed", {log::kv("code", error_code), log::kv("error", msg)});
    out = error_json(error_version(stdin_text), error_code, msg, details);
    return 1;
}

}  // namespace

int run_plugin(const EnvLookup& env, const std::string& stdin_text, std::string& out,
               const PodAnnotationFactory& annotations) {
    const std::string command = env("CNI_COMMAND").value_or("");
    log::set_context({log::kv("containerID", env("CNI_CONTAINERID").value_or("-")), log::kv("command", command)});
    try {
        out = dispatch(read_environment(env), stdin_text, annotations);
        return 0;
    } catch (const CniError& e) {
        return fail(stdin_text, e.code(), e.what(), e.details(), out);
    } catch (const common::StoreError& e) {
        return fail(stdin_text, code::state_store_failure, e.what(), "the state store failed", out);
    } catch (const common::SystemError& e) {
        return fail(stdin_text, code::io_failure, e.what(), {}, out);
    } catch (const std::exception& e) {
        return fail(stdin_text, code::io_failure, e.what(), "unexpected error", out);
    }
}

}  // namespace anycast::cni
