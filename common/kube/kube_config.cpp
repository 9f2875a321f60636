#include "common/kube/kube_config.hpp"

#include "common/kube/base64.hpp"
#include "common/log.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace anycast::common::kube {

namespace urls = boost::urls;

namespace {

std::string read_file(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw KubeConfigError(what + " " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A TCP port one can connect to: decimal 1-65535. (URL syntax allows any digits, and
// Boost.URL's port_number() gives 0 both for "0" and for an overflow.)
std::optional<std::uint16_t> port_number(std::string_view text) {
    unsigned value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || stop != end || value < 1 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// A string field of a YAML map, "" when absent.
std::string text_of(const YAML::Node& node, const char* key) {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) return {};
    if (!value.IsScalar()) throw KubeConfigError(std::string(key) + ": not a string");
    return value.as<std::string>();
}

// The entry named `name` in a kubeconfig list like `clusters: [{name, cluster: {...}}]`.
YAML::Node named_entry(const YAML::Node& root, const char* list, const char* inner, const std::string& name,
                       const std::string& source) {
    const YAML::Node entries = root[list];
    if (entries && entries.IsSequence()) {
        for (const auto& entry : entries) {
            if (entry["name"] && entry["name"].as<std::string>() == name) {
                const YAML::Node body = entry[inner];
                if (!body || !body.IsMap()) {
                    throw KubeConfigError(source + ": " + list + " entry \"" + name + "\" has no " + inner);
                }
                return body;
            }
        }
    }
    throw KubeConfigError(source + ": " + list + ": no entry named \"" + name + "\"");
}

// `<field>-data` (base64 PEM) wins over `<field>` (a file path, relative to the kubeconfig).
std::string pem_field(const YAML::Node& node, const std::string& field, const std::filesystem::path& dir,
                      const std::string& source) {
    const std::string data = text_of(node, (field + "-data").c_str());
    if (!data.empty()) {
        auto decoded = base64_decode(data);
        if (!decoded) throw KubeConfigError(source + ": " + field + "-data: not valid base64");
        return std::move(*decoded);
    }
    const std::string file = text_of(node, field.c_str());
    if (file.empty()) return {};
    return read_file((dir / file).lexically_normal().string(), source + ": " + field);
}

void warn_insecure(const KubeConfig& config) {
    log::warn(
        "INSECURE: insecure-skip-tls-verify is set, the apiserver's certificate is NOT verified; anyone on "
        "the path can impersonate it",
        {log::kv("server", config.server())});
}

}  // namespace

std::string KubeConfig::authority() const {
    urls::url url;
    url.set_host_address(host);  // an IPv6 literal gets its brackets
    url.set_port(port);
    return std::string(url.encoded_host_and_port());
}

std::string KubeConfig::server() const { return "https://" + authority() + base_path; }

void set_server(KubeConfig& config, const std::string& url, const std::string& source) {
    const auto invalid = [&](const std::string& problem) {
        return KubeConfigError(source + ": server \"" + url + "\": " + problem);
    };
    const auto parsed = urls::parse_uri(url);
    if (!parsed) throw invalid("not a valid URL, expected https://host[:port][/path]");
    if (parsed->scheme_id() != urls::scheme::https) throw invalid("only https:// servers are supported");
    // RFC 3986's path after an authority is empty or starts with '/'; Boost.URL 1.81 accepts
    // any path there, so "https://host:x" would parse as an empty port and the path "x".
    if (!parsed->encoded_path().empty() && !parsed->encoded_path().starts_with('/')) {
        throw invalid("not a valid URL, expected https://host[:port][/path]");
    }
    if (parsed->encoded_host().empty()) throw invalid("no host, expected https://host[:port][/path]");
    if (parsed->host_type() == urls::host_type::ipvfuture) throw invalid("IPvFuture hosts are not supported");
    // The server URL is a base for request paths: credentials belong in the user entry,
    // and a query or fragment would end up in the middle of every request target.
    if (parsed->has_userinfo()) throw invalid("user info is not supported");
    if (parsed->has_query() || parsed->has_fragment()) throw invalid("a query or fragment is not supported");
    std::string port = "443";
    if (parsed->has_port()) {
        const auto number = port_number(parsed->port());
        if (!number) throw invalid("port \"" + std::string(parsed->port()) + "\" is not a number from 1 to 65535");
        port = std::to_string(*number);
    }
    std::string base_path(parsed->encoded_path());
    while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
    config.host = parsed->host_address();
    config.port = std::move(port);
    config.base_path = std::move(base_path);
}

KubeConfig load_kubeconfig(const std::string& path) { return parse_kubeconfig(read_file(path, "kubeconfig"), path); }

KubeConfig parse_kubeconfig(const std::string& text, const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw KubeConfigError("kubeconfig " + path + ": " + e.what());
    }
    try {
        const std::string context_name = text_of(root, "current-context");
        if (context_name.empty()) throw KubeConfigError(path + ": current-context is not set");
        const YAML::Node context = named_entry(root, "contexts", "context", context_name, path);
        const std::string cluster_name = text_of(context, "cluster");
        const YAML::Node cluster = named_entry(root, "clusters", "cluster", cluster_name, path);
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();

        KubeConfig config;
        set_server(config, text_of(cluster, "server"), path);
        config.ca_pem = pem_field(cluster, "certificate-authority", dir, path);
        config.tls_server_name = text_of(cluster, "tls-server-name");
        if (cluster["insecure-skip-tls-verify"]) {
            config.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>();
        }

        const std::string user_name = text_of(context, "user");
        if (!user_name.empty()) {
            const YAML::Node user = named_entry(root, "users", "user", user_name, path);
            config.client_cert_pem = pem_field(user, "client-certificate", dir, path);
            config.client_key_pem = pem_field(user, "client-key", dir, path);
            if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
                throw KubeConfigError(path + ": user \"" + user_name +
                                      "\": client-certificate and client-key must be given together");
            }
            const std::string token = text_of(user, "token");
            const std::string token_file = text_of(user, "tokenFile");
            if (!token.empty()) {
                config.token = BearerToken::fixed(token);
            } else if (!token_file.empty()) {
                config.token = BearerToken::from_file((dir / token_file).lexically_normal().string());
            }
        }
        if (config.insecure_skip_tls_verify) warn_insecure(config);
        log::info("kubeconfig loaded",
                  {log::kv("file", path), log::kv("context", context_name), log::kv("server", config.server())});
        return config;
    } catch (const YAML::Exception& e) {
        throw KubeConfigError("kubeconfig " + path + ": " + e.what());
    }
}

KubeConfig load_in_cluster(const std::map<std::string, std::string>& env, const std::string& account_dir) {
    const auto host = env.find("KUBERNETES_SERVICE_HOST");
    const auto port = env.find("KUBERNETES_SERVICE_PORT");
    if (host == env.end() || host->second.empty() || port == env.end() || port->second.empty()) {
        throw KubeConfigError(
            "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (or set "
            "\"kubeconfig\" in the node config)");
    }
    const auto number = port_number(port->second);
    if (!number) {
        throw KubeConfigError("in-cluster config: KUBERNETES_SERVICE_PORT \"" + port->second +
                              "\" is not a number from 1 to 65535");
    }
    KubeConfig config;
    config.host = host->second;
    config.port = std::to_string(*number);
    config.ca_pem = read_file(account_dir + "/ca.crt", "in-cluster CA");
    config.token = BearerToken::from_file(account_dir + "/token");
    return config;
}

std::map<std::string, std::string> in_cluster_environment() {
    std::map<std::string, std::string> env;
    for (const char* name : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
        if (const char* value = std::getenv(name)) env[name] = value;
    }
    return env;
}

KubeConfig load_kube_config(const std::string& kubeconfig_path) {
    if (!kubeconfig_path.empty()) return load_kubeconfig(kubeconfig_path);
    return load_in_cluster(in_cluster_environment());
}

}  // namespace anycast::common::kube
