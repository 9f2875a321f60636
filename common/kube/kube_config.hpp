// Where the apiserver is and how to authenticate to it: from a kubeconfig file (the
// current context) or from the in-cluster service account. Certificates and keys are held as
// PEM text so a file that disappears after start does not break later connections; the
// bearer token is the exception (projected tokens rotate, see BearerToken).
#pragma once

#include "common/kube/bearer_token.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace anycast::common::kube {

// A kubeconfig or service-account problem; the message names the file and the field.
class KubeConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct KubeConfig {
    std::string host;          // DNS name or IP literal (no brackets)
    std::string port = "443";  // decimal, 1-65535 (the loaders check it)
    std::string base_path;     // path prefix of the server URL, percent-encoded, usually empty
    std::string ca_pem;        // empty: the system's trust store
    std::string client_cert_pem;
    std::string client_key_pem;
    BearerToken token;            // may be empty (client certificates only)
    std::string tls_server_name;  // overrides the name the certificate is checked against
    bool insecure_skip_tls_verify = false;

    // "host:port", an IPv6 literal in brackets: the HTTP Host header.
    std::string authority() const;
    // "https://host:port/base_path" for logs (never the token).
    std::string server() const;
};

// Reads a kubeconfig (YAML): the current context's cluster and user. Relative file paths are
// relative to the kubeconfig's directory, as kubectl resolves them.
KubeConfig load_kubeconfig(const std::string& path);
// The same from the file's text: `path` names it in errors and is where relative file
// references (certificate-authority, client-certificate, client-key, tokenFile) resolve from;
// those files are still read. KubeConfigError for anything that is not a usable kubeconfig.
KubeConfig parse_kubeconfig(const std::string& text, const std::string& path);

// The in-cluster service account: KUBERNETES_SERVICE_HOST / _PORT from `env`, token and
// ca.crt from `account_dir` (tests point it elsewhere).
inline constexpr const char* k_service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
KubeConfig load_in_cluster(const std::map<std::string, std::string>& env,
                           const std::string& account_dir = k_service_account_dir);

// The process environment's KUBERNETES_SERVICE_HOST / _PORT, for load_in_cluster.
std::map<std::string, std::string> in_cluster_environment();

// The node config's choice: a kubeconfig path, or (empty) the in-cluster account.
KubeConfig load_kube_config(const std::string& kubeconfig_path);

// Splits "https://host[:port][/prefix]" into the config's host, port (443 when absent) and
// base_path (without trailing '/'); only https, no user info, query or fragment. Throws
// KubeConfigError naming `source` and the URL.
void set_server(KubeConfig& config, const std::string& url, const std::string& source);

}  // namespace anycast::common::kube
