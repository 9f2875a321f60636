// Fuzz target kubeconfig: a kubeconfig file's text (common/kube/kube_config, yaml-cpp): the
// current context's cluster and user, the server URL, base64 `*-data` fields. Expected:
// KubeConfigError naming the problem. A config that loads has a server the client can dial.
// Files a kubeconfig names (certificate-authority, client-key, tokenFile, ...) resolve against
// a directory that does not exist, so a relative name reads nothing; an absolute one would be
// read as the agent reads it (no seed names one).
#include "common/kube/kube_config.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <string>

namespace {

using namespace anycast;
using namespace anycast::common::kube;
using anycast::fuzz::require;

constexpr const char* k_path = "/nonexistent/flock-fuzz/kubeconfig";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    KubeConfig config;
    try {
        config = parse_kubeconfig(std::string(fuzz::as_text(data, size)), k_path);
    } catch (const KubeConfigError&) {
        return 0;
    }
    require(!config.host.empty(), "a loaded config has a host");
    require(!config.port.empty() && config.port.size() <= 5 && config.port != "0", "a loaded config has a port");
    require(config.base_path.empty() || (config.base_path.front() == '/' && config.base_path.back() != '/'),
            "the base path is empty or /prefix without a trailing slash");
    require(config.client_cert_pem.empty() == config.client_key_pem.empty(), "client certificate and key together");
    // What every request and log line builds from it.
    (void)config.server();
    (void)config.authority();
    return 0;
}
