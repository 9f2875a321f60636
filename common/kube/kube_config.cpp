#include "common/kube/kube_config.hpp"

#include "common/log.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace anycast::common::kube {

namespace {

std::string read_file(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw KubeConfigError(what + " " + path + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string base64_decode(const std::string& text, const std::string& what) {
    namespace b64 = boost::beast::detail::base64;
    std::string clean;
    for (char c : text) {
        if (c != '\n' && c != '\r' && c != ' ') clean += c;
    }
    std::string out(b64::decoded_size(clean.size()), '\0');
    const auto [written, read] = b64::decode(out.data(), clean.data(), clean.size());
    // decode() stops at the first '=' or invalid character: only padding may follow.
    if (clean.size() - read > 2 || clean.find_first_not_of('=', read) != std::string::npos) {
        throw KubeConfigError(what + ": not valid base64");
    }
    out.resize(written);
    return out;
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
    if (!data.empty()) return base64_decode(data, source + ": " + field + "-data");
    const std::string file = text_of(node, field.c_str());
    if (file.empty()) return {};
    return read_file((dir / file).lexically_normal().string(), source + ": " + field);
}

void warn_insecure(const KubeConfig& config) {
    log::warn("INSECURE: insecure-skip-tls-verify is set, the apiserver's certificate is NOT verified; anyone on "
              "the path can impersonate it",
              {log::kv("server", config.server())});
}

}  // namespace

std::string KubeConfig::server() const {
    const bool v6 = host.find(':') != std::string::npos;
    return "https://" + (v6 ? "[" + host + "]" : host) + ":" + port + base_path;
}

void set_server(KubeConfig& config, const std::string& url, const std::string& source) {
    const std::string scheme = "https://";
    if (url.rfind(scheme, 0) != 0) {
        throw KubeConfigError(source + ": server \"" + url + "\": only https:// servers are supported");
    }
    std::string rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    config.base_path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!config.base_path.empty() && config.base_path.back() == '/') config.base_path.pop_back();
    std::string port = "443";
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) throw KubeConfigError(source + ": server \"" + url + "\": unclosed [");
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw KubeConfigError(source + ": server \"" + url + "\": bad port");
            port = authority.substr(close + 2);
        }
        authority = authority.substr(1, close - 1);
    } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
        port = authority.substr(colon + 1);
        authority = authority.substr(0, colon);
    }
    if (authority.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
        throw KubeConfigError(source + ": server \"" + url + "\": expected https://host[:port]");
    }
    config.host = authority;
    config.port = port;
}

KubeConfig load_kubeconfig(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::Load(read_file(path, "kubeconfig"));
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
        log::info("kubeconfig loaded", {log::kv("file", path), log::kv("context", context_name),
                                        log::kv("server", config.server())});
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
    KubeConfig config;
    config.host = host->second;
    config.port = port->second;
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
