// The Beast stream type for apiserver connections and how to open one: resolve, connect,
// SNI, hostname or IP verification, handshake. Internal to common/kube: include it only from
// .cpp files that stream (it pulls in Beast and OpenSSL).
#pragma once

#include "common/kube/kube_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <string>

namespace anycast::common::kube {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Connects and handshakes; set the lowest layer's expiry first to bound it. Throws
// ApiTransportError (certificate_rejected when verification failed).
boost::asio::awaitable<void> async_open(TlsStream& stream, const KubeConfig& config);

// A GET for `target` with Host, Accept, User-Agent and the bearer token (when there is one).
boost::beast::http::request<boost::beast::http::empty_body> make_get(KubeConfig& config, const std::string& target);

}  // namespace anycast::common::kube
