#include "common/kube/pod_get.hpp"

#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <optional>

namespace anycast::common::kube {

namespace net = boost::asio;

PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::string_view keep_annotation, std::chrono::milliseconds timeout) {
    const std::string what = "GET pod " + namespace_ + "/" + name + " from " + config.server();
    std::shared_ptr<net::ssl::context> tls;
    try {
        tls = make_tls_context(config);
    } catch (const KubeConfigError& e) {
        throw PodLookupError(e.what(), false);
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
        throw PodLookupError(what + ": no answer within " + std::to_string(timeout.count()) + " ms", true);
    }
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const ApiTransportError& e) {
            throw PodLookupError(e.what(), !e.certificate_rejected());
        } catch (const KubeConfigError& e) {
            throw PodLookupError(e.what(), false);
        }
    }
    const unsigned status = response->status;
    if (status != 200) {
        const bool transient = status == 429 || status >= 500;
        throw PodLookupError(what + ": HTTP " + std::to_string(status) + ": " + api_status_message(*response),
                             transient);
    }
    try {
        return parse_pod(parse_json(response->body, "pod"), keep_annotation);
    } catch (const JsonError& e) {
        throw PodLookupError(what + ": unexpected answer: " + e.what(), false);
    }
}

}  // namespace anycast::common::kube
