#include "reconciler/serve/pod_lookup.hpp"

#include "common/kube/api_request.hpp"
#include "common/kube/pod_get.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace anycast::reconciler {

namespace net = boost::asio;
namespace kube = common::kube;
using common::PodLookupAnswer;
using common::PodLookupRequest;

std::optional<PodLookupAnswer> answer_from_cache(const kube::PodCache* cache, const PodLookupRequest& request,
                                                 const std::string& annotation) {
    if (cache == nullptr) {
        return PodLookupAnswer::failed(
            "serve does not watch Kubernetes (its readiness.source is not kubernetes): give the plugin and serve "
            "the same node config",
            false);
    }
    if (request.annotation != annotation) {
        return PodLookupAnswer::failed("serve keeps annotation " + annotation + ", the plugin asked for " +
                                           request.annotation + ": give the plugin and serve the same `annotation`",
                                       false);
    }
    const kube::PodInfo* pod = cache->find(request.namespace_ + "/" + request.name);
    if (pod == nullptr || (!request.uid.empty() && pod->uid != request.uid)) return std::nullopt;
    const auto value = pod->annotations.find(annotation);
    if (value == pod->annotations.end()) return PodLookupAnswer::found(std::nullopt, "cache");
    return PodLookupAnswer::found(value->second, "cache");
}

PodLookupAnswer answer_from_apiserver(const kube::PodInfo& pod, const PodLookupRequest& request) {
    // Deleted and re-created under the same name since the runtime asked: that annotation
    // belongs to another pod.
    if (!request.uid.empty() && pod.uid != request.uid) {
        return PodLookupAnswer::failed(
            "pod " + pod.key() + ": the apiserver's uid is " + pod.uid + ", CNI_ARGS K8S_POD_UID is " + request.uid,
            false);
    }
    const auto value = pod.annotations.find(request.annotation);
    if (value == pod.annotations.end()) return PodLookupAnswer::found(std::nullopt, "apiserver");
    return PodLookupAnswer::found(value->second, "apiserver");
}

// What a GET needs, shared with the GETs in flight so they outlive a config reload.
struct PodLookup::Access {
    kube::KubeConfig config;
    std::shared_ptr<net::ssl::context> tls;
};

namespace {

// Parameters by value: the coroutine frame owns them for as long as the GET runs.
net::awaitable<kube::PodInfo> get_pod(std::shared_ptr<kube::KubeConfig> config, std::shared_ptr<net::ssl::context> tls,
                                      std::string namespace_, std::string name, std::string annotation,
                                      std::chrono::milliseconds timeout) {
    co_return co_await kube::async_get_pod(*config, *tls, std::move(namespace_), std::move(name), std::move(annotation),
                                           timeout);
}

// One answer per lookup, whichever of the GET and the deadline comes first.
struct PendingGet {
    PodLookup::Done done;
    net::steady_timer deadline;

    PendingGet(net::io_context& io, PodLookup::Done d) : done(std::move(d)), deadline(io) {}
    void finish(PodLookupAnswer answer) {
        if (!done) return;
        deadline.cancel();
        std::exchange(done, nullptr)(std::move(answer));
    }
};

}  // namespace

PodLookup::PodLookup(net::io_context& io, CacheView cache, std::optional<kube::KubeConfig> access,
                     PodLookupSettings settings)
    : io_(io), cache_(std::move(cache)), settings_(std::move(settings)) {
    if (!access) {
        access_problem_ = "serve has no Kubernetes access";
        return;
    }
    try {
        auto tls = kube::make_tls_context(*access);
        access_ = std::make_shared<Access>(Access{std::move(*access), std::move(tls)});
    } catch (const std::exception& e) {
        access_problem_ = std::string("serve cannot reach the apiserver: ") + e.what();
    }
}

PodLookup::~PodLookup() = default;

void PodLookup::lookup(const PodLookupRequest& request, Done done) {
    if (auto answer = answer_from_cache(cache_(), request, settings_.annotation)) {
        done(std::move(*answer));
        return;
    }
    get(request, std::move(done));
}

void PodLookup::get(const PodLookupRequest& request, Done done) {
    const std::string pod = request.namespace_ + "/" + request.name;
    if (!access_) {
        done(PodLookupAnswer::failed("pod " + pod + " is not in serve's cache and " + access_problem_, true));
        return;
    }
    if (*in_flight_ >= settings_.max_gets) {
        done(PodLookupAnswer::failed("pod " + pod + " is not in serve's cache and " + std::to_string(*in_flight_) +
                                         " apiserver GETs are in flight already",
                                     true));
        return;
    }
    ++*in_flight_;
    auto pending = std::make_shared<PendingGet>(io_, std::move(done));
    // Name resolution is not bounded by the GET's own timeout.
    pending->deadline.expires_after(settings_.get_timeout + std::chrono::milliseconds(100));
    pending->deadline.async_wait([pending, pod, timeout = settings_.get_timeout](boost::system::error_code ec) {
        if (ec) return;
        pending->finish(PodLookupAnswer::failed(
            "pod " + pod + ": the apiserver did not answer serve within " + std::to_string(timeout.count()) + " ms",
            true));
    });
    auto config = std::shared_ptr<kube::KubeConfig>(access_, &access_->config);
    net::co_spawn(io_,
                  get_pod(std::move(config), access_->tls, request.namespace_, request.name, request.annotation,
                          settings_.get_timeout),
                  [pending, request, in_flight = in_flight_](std::exception_ptr failure, kube::PodInfo found) {
                      --*in_flight;
                      if (!failure) {
                          pending->finish(answer_from_apiserver(found, request));
                          return;
                      }
                      try {
                          std::rethrow_exception(failure);
                      } catch (const kube::PodLookupError& e) {
                          pending->finish(PodLookupAnswer::failed(e.what(), e.transient()));
                      } catch (const std::exception& e) {
                          pending->finish(PodLookupAnswer::failed(e.what(), true));
                      }
                  });
}

}  // namespace anycast::reconciler
