// Connection setup and one-shot GETs for the apiserver client (api_request.hpp, tls_stream.hpp).
#include "common/kube/api_request.hpp"
#include "common/kube/tls_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace anycast::common::kube {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::use_awaitable;

std::shared_ptr<ssl::context> make_tls_context(const KubeConfig& config) {
    auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
    try {
        tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        if (config.insecure_skip_tls_verify) {
            tls->set_verify_mode(ssl::verify_none);
        } else {
            tls->set_verify_mode(ssl::verify_peer);
            if (config.ca_pem.empty()) {
                tls->set_default_verify_paths();
            } else {
                tls->add_certificate_authority(net::buffer(config.ca_pem));
            }
        }
        if (!config.client_cert_pem.empty()) {
            tls->use_certificate_chain(net::buffer(config.client_cert_pem));
            tls->use_private_key(net::buffer(config.client_key_pem), ssl::context::pem);
        }
    } catch (const boost::system::system_error& e) {
        throw KubeConfigError("TLS setup for " + config.server() + ": " + e.code().message());
    }
    return tls;
}

net::awaitable<void> async_open(TlsStream& stream, const KubeConfig& config) {
    auto executor = co_await net::this_coro::executor;
    try {
        tcp::resolver resolver(executor);
        auto endpoints = co_await resolver.async_resolve(config.host, config.port, use_awaitable);
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
    } catch (const boost::system::system_error& e) {
        throw ApiTransportError("connect to " + config.server() + ": " + e.code().message(), false);
    }

    SSL* handle = stream.native_handle();
    const std::string& name = config.tls_server_name.empty() ? config.host : config.tls_server_name;
    boost::system::error_code not_ip;
    net::ip::make_address(name, not_ip);
    if (!config.insecure_skip_tls_verify) {
        // OpenSSL checks the chain only; the name (DNS SAN) or IP (IP SAN) is checked when
        // told, which is what stops a valid certificate for another host from being accepted.
        const int ok = not_ip ? SSL_set1_host(handle, name.c_str())
                              : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), name.c_str());
        if (ok != 1) throw ApiTransportError("TLS setup for " + config.server() + ": cannot verify name " + name, true);
    }
    if (not_ip) SSL_set_tlsext_host_name(handle, name.c_str());  // SNI is for DNS names only

    try {
        co_await stream.async_handshake(ssl::stream_base::client, use_awaitable);
    } catch (const boost::system::system_error& e) {
        const long verify = SSL_get_verify_result(handle);
        if (verify != X509_V_OK) {
            throw ApiTransportError("TLS handshake with " + config.server() +
                                        ": server certificate rejected: " + X509_verify_cert_error_string(verify),
                                    true);
        }
        throw ApiTransportError("TLS handshake with " + config.server() + ": " + e.code().message(), false);
    }
}

namespace {

template <class Body>
void set_common_fields(http::request<Body>& request, KubeConfig& config) {
    request.set(http::field::host, config.authority());
    request.set(http::field::user_agent, "flock-anycast/" FLOCK_VERSION);
    request.set(http::field::accept, "application/json");
    const std::string& token = config.token.value();
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
}

// One request on a fresh connection, its answer read up to `body_limit`; `what` ("GET
// /api/v1/...") names it in errors.
template <class Body>
net::awaitable<ApiResponse> exchange(KubeConfig& config, ssl::context& tls, const http::request<Body>& request,
                                     const std::string& what, std::chrono::milliseconds timeout,
                                     std::size_t body_limit) {
    auto executor = co_await net::this_coro::executor;
    TlsStream stream(executor, tls);
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await async_open(stream, config);
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    try {
        beast::flat_buffer buffer;
        co_await http::async_write(stream, request, use_awaitable);
        co_await http::async_read(stream, buffer, parser, use_awaitable);
    } catch (const boost::system::system_error& e) {
        if (e.code() == http::error::body_limit) {
            throw ApiBodyTooLargeError(what + " from " + config.server() + ": the answer is larger than " +
                                       std::to_string(body_limit) + " bytes");
        }
        throw ApiTransportError(what + " from " + config.server() + ": " + e.code().message(), false);
    }
    // No TLS close_notify exchange: the response is complete and a slow peer must not
    // hold us; closing the socket is enough for a one-shot request.
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    auto response = parser.release();
    co_return ApiResponse{.status = response.result_int(), .body = std::move(response.body())};
}

}  // namespace

http::request<http::empty_body> make_get(KubeConfig& config, const std::string& target) {
    http::request<http::empty_body> request{http::verb::get, config.base_path + target, 11};
    set_common_fields(request, config);
    return request;
}

net::awaitable<ApiResponse> async_api_get(KubeConfig& config, ssl::context& tls, std::string target,
                                          std::chrono::milliseconds timeout, std::size_t body_limit) {
    co_return co_await exchange(config, tls, make_get(config, target), "GET " + target, timeout, body_limit);
}

net::awaitable<ApiResponse> async_api_write(KubeConfig& config, ssl::context& tls, ApiWrite write,
                                            std::chrono::milliseconds timeout) {
    const bool patch = write.method == ApiWrite::Method::patch;
    http::request<http::string_body> request{patch ? http::verb::patch : http::verb::post,
                                             config.base_path + write.target, 11};
    set_common_fields(request, config);
    request.set(http::field::content_type, write.content_type);
    request.body() = std::move(write.body);
    request.prepare_payload();
    co_return co_await exchange(config, tls, request, (patch ? "PATCH " : "POST ") + write.target, timeout,
                                std::size_t{1} << 20);
}

std::string api_status_message(const ApiResponse& response) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(response.body, ec);
    if (!ec && doc.is_object()) {
        if (const auto* message = doc.as_object().if_contains("message"); message && message->is_string()) {
            return std::string(message->as_string());
        }
    }
    if (!response.body.empty()) return response.body.substr(0, 200);
    return std::string(http::obsolete_reason(static_cast<http::status>(response.status)));
}

}  // namespace anycast::common::kube
