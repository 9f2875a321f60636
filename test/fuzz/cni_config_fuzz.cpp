// Fuzz target cni_config: what a CNI invocation reads before it touches anything. The input's
// first line is CNI_ARGS, the rest the network config on stdin (a file without a newline is
// all stdin). Runs the parsers in ADD's order: CNI_ARGS (cni/spec/cni_args), the error version
// and the network config with its inline node config (cni/spec/net_config), then what ADD
// computes from them without the kernel: the requested IPs (cni/requested_ips), the policy,
// prevResult converted (cni/spec/result) and the pod's IP in it (cni/pod_ip).
// Expected: CniError with the documented code. Anything else escaping is a crash.
#include "cni/pod_ip.hpp"
#include "cni/requested_ips.hpp"
#include "cni/spec/cni_args.hpp"
#include "cni/spec/cni_error.hpp"
#include "cni/spec/net_config.hpp"
#include "cni/spec/result.hpp"
#include "cni/spec/versions.hpp"
#include "common/config/policy.hpp"
#include "common/json_reader.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>

namespace {

using namespace anycast;
using anycast::fuzz::require;
namespace code = cni::cni_code;

// The default node config path is never there, so the plugin reads no file by default.
constexpr const char* k_absent_config = "/nonexistent/flock-fuzz/config.json";

// A network config naming a configFile makes the plugin read that file: a fuzzed name could be
// /dev/zero. Names under /nonexistent/ (which does not exist, so ".." cannot climb out of it)
// still exercise the "cannot open" path; other names are left out (the node config's own
// parser has its target, node_config).
bool names_a_readable_file(std::string_view stdin_text) {
    boost::json::value doc;
    try {
        doc = common::parse_json(stdin_text, "stdin");  // the plugin's own limits (depth)
    } catch (const common::JsonError&) {
        return false;
    }
    const auto* object = doc.if_object();
    const auto* file = object ? object->if_contains("configFile") : nullptr;
    if (!file || !file->is_string()) return false;
    const std::string_view name = file->get_string();
    return !name.empty() && !name.starts_with("/nonexistent/");
}

void run_add_computations(const cni::NetConfig& config, const std::optional<cni::CniArgs>& args) {
    cni::IpRequest request;
    request.static_ips = &config.static_ips;
    request.runtime_config = &config.runtime_config;
    if (args) request.cni_args = args->get("ANYCAST_IPS");
    request.annotation_name = config.node.annotation;
    std::vector<common::IpAddress> ips;
    try {
        ips = cni::requested_ips(request);
    } catch (const cni::CniError& e) {
        require(e.code() == code::invalid_config, "requested_ips fails with code 7 only");
        return;
    }
    require(ips.size() <= cni::k_max_anycast_ips, "at most k_max_anycast_ips IPs");
    require(std::is_sorted(ips.begin(), ips.end()) && std::adjacent_find(ips.begin(), ips.end()) == ips.end(),
            "requested IPs sorted and unique");
    const std::string pod_namespace = args ? args->get("K8S_POD_NAMESPACE").value_or("") : "";
    for (const auto& ip : ips) (void)common::policy_refusal(config.node.policy, pod_namespace, ip);

    if (!config.prev_result) return;
    const auto result = cni::convert_result(*config.prev_result, config.cni_version);
    require(result.at("cniVersion").as_string() == config.cni_version, "the result is in the config's version");
    (void)boost::json::serialize(result);
    for (const auto family : {common::Family::v4, common::Family::v6}) {
        try {
            const auto ip = cni::pod_ip(*config.prev_result, family, "eth0");
            require(!ip || ip->family() == family, "pod_ip answers an IP of the family asked for");
        } catch (const cni::CniError& e) {
            require(e.code() == code::invalid_config, "pod_ip fails with code 7 only");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    const auto parts = fuzz::split_first_line(fuzz::as_text(data, size));

    std::optional<cni::CniArgs> args;
    try {
        args = cni::parse_cni_args(parts.first);
    } catch (const cni::CniError& e) {
        require(e.code() == code::invalid_environment, "CNI_ARGS fails with code 4 only");
    }

    // Never throws, and answers a version we speak.
    const std::string version = cni::error_version(parts.second);
    require(cni::is_supported_version(version), "error_version answers a supported version");

    if (names_a_readable_file(parts.second)) return -1;  // not added to the corpus
    cni::NetConfig config;
    try {
        config = cni::parse_net_config(parts.second, k_absent_config);
    } catch (const cni::CniError& e) {
        require(e.code() == code::incompatible_version || e.code() == code::decoding_failure ||
                    e.code() == code::invalid_config,
                "the network config fails with code 1, 6 or 7 only");
        return 0;
    }
    require(cni::is_supported_version(config.cni_version), "a parsed config has a supported version");
    require(!config.name.empty(), "a parsed config has a network name");
    // Errors after parsing (policy, next hop) are answered in error_version's version: the
    // config's own, since it was readable (docs/architecture.md section 4).
    require(version == config.cni_version, "error_version answers in a readable config's version");
    run_add_computations(config, args);
    return 0;
}
