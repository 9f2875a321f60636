#include "common/kube/pod_get.hpp"

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"
#include "common/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <optional>

namespace anycast::common::kube {

namespace net = boost::asio;

PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::chrono::milliseconds timeout) {
    const std::string what = "GET pod " + namespace_ + "/" + name + " from " + config.server();
    std::shared_ptr<net::ssl::context> tls;
    try {
        tls = make_tls_context(config);
    } catch (const KubeConfigError& e) {
        throw CniError(cni_code::kubernetes_lookup_failed, e.what());
    }

    net::io_context io;
    std::optional<ApiResponse> response;
    std::exception_ptr failure;
    net::co_spawn(io, async_api_get(config, *tls, pod_target(namespace_, name), timeout),
                  [&](std::exception_ptr error, ApiResponse result) {
                      failure = error;
                      if (!error) response = std::move(result);
                  });
    // The stream's own expiry bounds connect/TLS/IO; this also bounds name resolution.
    io.run_for(timeout);
    if (!response && !failure) {
        throw CniError(cni_code::try_again_later, what + ": no answer within " + std::to_string(timeout.count()) + " ms");
    }
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const ApiTransportError& e) {
            throw CniError(e.certificate_rejected() ? cni_code::kubernetes_lookup_failed : cni_code::try_again_later,
                           e.what());
        } catch (const KubeConfigError& e) {
            throw CniError(cni_code::kubernetes_lookup_failed, e.what());
        }
    }
    const unsigned status = response->status;
    if (status != 200) {
        const bool transient = status == 429 || status >= 500;
        throw CniError(transient ? cni_code::try_again_later : cni_code::kubernetes_lookup_failed,
                       what + ": HTTP " + std::to_string(status) + ": " + api_status_message(*response));
    }
    try {
        return parse_pod(parse_json(response->body, "pod"));
    } catch (const JsonError& e) {
        throw CniError(cni_code::kubernetes_lookup_failed, what + ": unexpected answer: " + e.what());
    }
}

std::vector<std::string> fetch_annotation_ips(const std::string& kubeconfig_path, const std::string& namespace_,
                                              const std::string& name, const std::string& annotation,
                                              std::chrono::milliseconds timeout) {
    KubeConfig config;
    try {
        config = load_kube_config(kubeconfig_path);
    } catch (const KubeConfigError& e) {
        throw CniError(cni_code::kubernetes_lookup_failed, e.what());
    }
    const PodInfo pod = get_pod(config, namespace_, name, timeout);
    auto ips = annotation_ips(pod, annotation);
    log::debug("pod annotation read", {log::kv("pod", pod.key()), log::kv("annotation", annotation),
                                       log::kv("ips", ips.size())});
    return ips;
}

}  // namespace anycast::common::kube
