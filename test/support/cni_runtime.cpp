#include "test/support/cni_runtime.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace anycast::test {

namespace json = boost::json;
namespace fs = std::filesystem;

ProcessResult run_cni(const std::string& binary, const CniCall& call, const std::string& config,
                      double kill_after_seconds) {
    std::map<std::string, std::string> env = {
        {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
        {"CNI_PATH", k_reference_plugins},
        {"CNI_COMMAND", call.command},
    };
    if (!call.container_id.empty()) env["CNI_CONTAINERID"] = call.container_id;
    if (!call.netns.empty()) env["CNI_NETNS"] = call.netns;
    if (!call.ifname.empty()) env["CNI_IFNAME"] = call.ifname;
    if (!call.cni_args.empty()) env["CNI_ARGS"] = call.cni_args;
    for (const auto& [k, v] : call.extra_env) env[k] = v;
    return run_process({binary}, {.env = env, .stdin_text = config, .timeout_seconds = kill_after_seconds});
}

json::object json_out(const ProcessResult& result) {
    boost::system::error_code ec;
    auto value = json::parse(result.out, ec);
    if (ec || !value.is_object()) {
        throw std::runtime_error("not a JSON object (exit " + std::to_string(result.exit_code) + "): " + result.out +
                                 "\nstderr: " + result.err);
    }
    return value.as_object();
}

Chain::Chain(MainPlugin main, std::string version, std::string state_dir, std::string ipam_dir, std::string bridge_name)
    : main_(main),
      version_(std::move(version)),
      state_dir_(std::move(state_dir)),
      ipam_dir_(std::move(ipam_dir)),
      bridge_name_(std::move(bridge_name)) {}

std::string Chain::main_config() const {
    json::object ipam = {
        {"type", "host-local"},
        {"dataDir", ipam_dir_},
        {"ranges", json::array{json::array{json::object{{"subnet", "10.77.0.0/24"}}},
                               json::array{json::object{{"subnet", "fd77::/64"}}}}},
    };
    // Debian's reference plugins (1.4) speak up to 1.0.0: they run at that version when the
    // chain is newer, and add_main converts their result as libcni does for prevResult.
    const std::string main_version = version_ == "1.1.0" ? "1.0.0" : version_;
    json::object config = {{"cniVersion", main_version}, {"name", network_}, {"ipam", std::move(ipam)}};
    if (main_ == MainPlugin::ptp) {
        config["type"] = "ptp";
        config["ipMasq"] = false;
    } else {
        config["type"] = "bridge";
        config["bridge"] = bridge_name_;
        config["isGateway"] = true;
        config["ipMasq"] = false;
    }
    return json::serialize(config);
}

std::string Chain::flock_config(const json::object& fields, const json::value* prev_result) const {
    json::object config = {
        {"cniVersion", version_},
        {"name", network_},
        {"type", "flock-anycast"},
        {"stateDir", state_dir_},
        {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}},
                                {"namespaces", json::object{{"dns", json::array{"10.255.53.0/24", "fd00:255::/64"}}}}}},
        // A node without Kubernetes: no serve to ask for pod annotations, so the IPs come from
        // the config, runtimeConfig and CNI_ARGS (kube_annotation_test.cpp covers the lookup).
        {"readiness", json::object{{"source", "always"}}},
    };
    for (const auto& [key, value] : fields) config[key] = value;
    if (prev_result) config["prevResult"] = *prev_result;
    return json::serialize(config);
}

json::object Chain::add_main(const CniCall& call) const {
    CniCall add = call;
    add.command = "ADD";
    const std::string plugin = std::string(k_reference_plugins) + (main_ == MainPlugin::ptp ? "/ptp" : "/bridge");
    auto result = run_cni(plugin, add, main_config());
    if (result.exit_code != 0) throw std::runtime_error("main plugin ADD failed: " + result.out + result.err);
    auto prev = json_out(result);
    prev["cniVersion"] = version_;  // 1.0.0 and 1.1.0 results share one layout
    return prev;
}

ProcessResult Chain::del_main(const CniCall& call) const {
    CniCall del = call;
    del.command = "DEL";
    const std::string plugin = std::string(k_reference_plugins) + (main_ == MainPlugin::ptp ? "/ptp" : "/bridge");
    return run_cni(plugin, del, main_config());
}

std::string lo_addresses(const std::string& netns_name) {
    const auto out = sh("ip -n " + netns_name + " -o addr show dev lo");
    std::vector<std::string> addresses;
    std::size_t pos = 0;
    while ((pos = out.find(" inet", pos)) != std::string::npos) {
        pos = out.find(' ', pos + 1) + 1;
        const auto end = out.find(' ', pos);
        const std::string address = out.substr(pos, end - pos);
        if (address != "127.0.0.1/8" && address != "::1/128") addresses.push_back(address);
    }
    std::sort(addresses.begin(), addresses.end());
    std::string text;
    for (const auto& a : addresses) text += (text.empty() ? "" : " ") + a;
    return text;
}

std::string list_dir(const std::string& path) {
    if (!fs::exists(path)) return {};
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    std::string text;
    for (const auto& n : names) text += n + "\n";
    return text;
}

}  // namespace anycast::test
