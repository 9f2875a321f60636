// One-shot HTTPS GETs and writes against the apiserver (a fresh connection each, bounded by a timeout),
// and the request targets this agent uses (api_target.hpp). Internal to common/kube; Beast
// stays in the .cpp.
#pragma once

#include "common/kube/api_limits.hpp"
#include "common/kube/api_target.hpp"
#include "common/kube/kube_config.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace anycast::common::kube {

// No HTTP answer: unreachable, timed out, connection broken, or TLS refused.
class ApiTransportError : public std::runtime_error {
public:
    ApiTransportError(const std::string& message, bool certificate_rejected)
        : std::runtime_error(message), certificate_rejected_(certificate_rejected) {}
    // The server's certificate failed verification (wrong CA, hostname mismatch): retrying
    // will not help, unlike a timeout.
    bool certificate_rejected() const { return certificate_rejected_; }

private:
    bool certificate_rejected_;
};

// The answer's body is larger than the caller's limit (what it would take to hold it is the
// caller's to decide: a list asks for smaller pages).
class ApiBodyTooLargeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ApiResponse {
    unsigned status = 0;
    std::string body;
};

// The TLS client context for `config`: its CA (or the system store), client certificate,
// and verification unless insecure-skip-tls-verify. KubeConfigError on bad PEM.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const KubeConfig& config);

// A write to the apiserver: PATCH (with its patch type as the content type) or POST.
struct ApiWrite {
    enum class Method { patch, post } method = Method::post;
    std::string target;  // path + query, without the config's base path
    std::string content_type = "application/json";
    std::string body;
};

// GET `target` (path + query, without the config's base path); `timeout` bounds connect,
// handshake, request and response together. A body over `body_limit` bytes throws
// ApiBodyTooLargeError (before it is all read).
boost::asio::awaitable<ApiResponse> async_api_get(KubeConfig& config, boost::asio::ssl::context& tls,
                                                  std::string target, std::chrono::milliseconds timeout,
                                                  std::size_t body_limit = k_default_body_limit);

// Sends `write` and reads the answer (at most 1 MiB); `timeout` bounds it all, like
// async_api_get. ApiTransportError when no answer came.
boost::asio::awaitable<ApiResponse> async_api_write(KubeConfig& config, boost::asio::ssl::context& tls, ApiWrite write,
                                                    std::chrono::milliseconds timeout);

// The apiserver's own explanation of a failed request: the Status object's `message`, else
// the start of the body, else the HTTP reason.
std::string api_status_message(const ApiResponse& response);

}  // namespace anycast::common::kube
