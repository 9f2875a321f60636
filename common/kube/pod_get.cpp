#include "common/kube/pod_get.hpp"

#include "common/json_reader.hpp"
#include "common/kube/api_request.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <optional>

namespace anycast::common::kube {

namespace net = boost::asio;

namespace {

std::string describe(const KubeConfig& config, const std::string& namespace_, const std::string& name) {
    return "GET pod " + namespace_ + "/" + name + " from " + config.server();
}

// The answer, or why there is no pod in it.
PodInfo interpret(const ApiResponse& response, const std::string& what, std::string_view keep_annotation) {
    const unsigned status = response.status;
    if (status != 200) {
        const bool transient = status == 429 || status >= 500;
        throw PodLookupError(what + ": HTTP " + std::to_string(status) + ": " + api_status_message(response),
                             transient);
    }
    try {
        return parse_pod(parse_json(response.body, "pod"), keep_annotation);
    } catch (const JsonError& e) {
        throw PodLookupError(what + ": unexpected answer: " + e.what(), false);
    }
}

// The transport's failures as lookup failures: a rejected certificate will not get better.
[[noreturn]] void rethrow_as_lookup_error(std::exception_ptr failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const ApiTransportError& e) {
        throw PodLookupError(e.what(), !e.certificate_rejected());
    } catch (const KubeConfigError& e) {
        throw PodLookupError(e.what(), false);
    }
}

}  // namespace

net::awaitable<PodInfo> async_get_pod(KubeConfig& config, net::ssl::context& tls, std::string namespace_,
                                      std::string name, std::string keep_annotation,
                                      std::chrono::milliseconds timeout) {
    const std::string what = describe(config, namespace_, name);
    std::optional<ApiResponse> response;
    std::exception_ptr failure;
    try {
        response = co_await async_api_get(config, tls, pod_target(namespace_, name), timeout);
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    if (failure) rethrow_as_lookup_error(failure);
    co_return interpret(*response, what, keep_annotation);
}

PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::string_view keep_annotation, std::chrono::milliseconds timeout) {
    std::shared_ptr<net::ssl::context> tls;
    try {
        tls = make_tls_context(config);
    } catch (const KubeConfigError& e) {
        throw PodLookupError(e.what(), false);
    }
    net::io_context io;
    std::optional<PodInfo> pod;
    std::exception_ptr failure;
    net::co_spawn(io, async_get_pod(config, *tls, namespace_, name, std::string(keep_annotation), timeout),
                  [&](std::exception_ptr error, PodInfo result) {
                      failure = error;
                      if (!error) pod = std::move(result);
                  });
    // The stream's own expiry bounds connect/TLS/IO; this also bounds name resolution.
    io.run_for(timeout);
    if (failure) std::rethrow_exception(failure);
    if (!pod) {
        throw PodLookupError(
            describe(config, namespace_, name) + ": no answer within " + std::to_string(timeout.count()) + " ms", true);
    }
    return std::move(*pod);
}

}  // namespace anycast::common::kube
