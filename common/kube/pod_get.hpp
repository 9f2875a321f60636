// GET one pod: serve's lookup for the CNI plugin when its watch has not seen the pod
// (reconciler/serve/pod_lookup.cpp) on serve's loop, or on a loop of its own for callers
// without one. Failures say whether asking again later may help: the plugin's code 11 or 102.
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/pod_info.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace anycast::common::kube {

inline constexpr std::chrono::milliseconds k_default_get_timeout{5000};

// A pod GET that did not give a pod. `transient`: the apiserver was unreachable, did not answer
// in time or was overloaded (429, 5xx); asking again later may work. Otherwise it refused
// (401, 403, 404, ...; the message carries its own), its certificate was rejected, the access
// config is unusable or the answer was not a pod.
class PodLookupError : public std::runtime_error {
public:
    PodLookupError(const std::string& message, bool transient) : std::runtime_error(message), transient_(transient) {}
    bool transient() const { return transient_; }

private:
    bool transient_;
};

// Throws PodLookupError. The pod keeps only the annotation `keep_annotation`.
PodInfo get_pod(KubeConfig& config, const std::string& namespace_, const std::string& name,
                std::string_view keep_annotation = k_ips_annotation,
                std::chrono::milliseconds timeout = k_default_get_timeout);

// The same on the caller's io_context (serve's pod lookups for the CNI plugin); `tls` from
// make_tls_context(config) (common/kube/api_request.hpp). `timeout` bounds connect, TLS and
// the exchange but not name resolution: the caller's own deadline must.
boost::asio::awaitable<PodInfo> async_get_pod(KubeConfig& config, boost::asio::ssl::context& tls,
                                              std::string namespace_, std::string name, std::string keep_annotation,
                                              std::chrono::milliseconds timeout);

}  // namespace anycast::common::kube
