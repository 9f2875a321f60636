// serve's answer to the CNI plugin's "which anycast IPs does this pod ask for" (issue 16,
// docs/cni.md "How ADD learns the annotation"): from the pods the Kubernetes watch keeps, and
// on a miss (the watch not synced yet, or behind the pod's creation) one GET of serve's own,
// bounded in time and in number, so the plugin needs no credentials and a slow apiserver
// costs the pods that ask a "try again", never a hang.
#pragma once

#include "common/kube/kube_config.hpp"
#include "common/kube/pod_cache.hpp"
#include "common/pod_lookup_protocol.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace anycast::reconciler {

// Pure: the answer the cache gives, nullopt on a miss (pod unknown, or known under another
// uid: it may have been re-created since the watch's last event). `annotation` is the one the
// cache keeps; a request for another is a config mismatch, answered as an error.
std::optional<common::PodLookupAnswer> answer_from_cache(const common::kube::PodCache* cache,
                                                         const common::PodLookupRequest& request,
                                                         const std::string& annotation);

// Pure: a pod the apiserver returned, checked against the request's uid.
common::PodLookupAnswer answer_from_apiserver(const common::kube::PodInfo& pod,
                                              const common::PodLookupRequest& request);

struct PodLookupSettings {
    std::string annotation;                       // the one the watch's cache keeps
    std::chrono::milliseconds get_timeout{1500};  // under the plugin's 2 s deadline
    std::size_t max_gets = 8;                     // in flight at once; more → try again
};

class PodLookup {
public:
    using Done = std::function<void(common::PodLookupAnswer)>;
    // The readiness source's cache as of now (nullptr: not watching Kubernetes).
    using CacheView = std::function<const common::kube::PodCache*()>;

    // `access`: how to GET on a miss (nullopt: misses are answered "try again later").
    PodLookup(boost::asio::io_context& io, CacheView cache, std::optional<common::kube::KubeConfig> access,
              PodLookupSettings settings);
    ~PodLookup();
    PodLookup(const PodLookup&) = delete;
    PodLookup& operator=(const PodLookup&) = delete;

    // Calls `done` once, on the io_context's thread: at once on a hit, after the GET on a miss.
    void lookup(const common::PodLookupRequest& request, Done done);

    std::size_t gets_in_flight() const { return *in_flight_; }

private:
    struct Access;
    void get(const common::PodLookupRequest& request, Done done);

    boost::asio::io_context& io_;
    CacheView cache_;
    std::shared_ptr<Access> access_;  // null: no GET on a miss
    std::string access_problem_;      // why access_ is null, for the answer
    PodLookupSettings settings_;
    std::shared_ptr<std::size_t> in_flight_ = std::make_shared<std::size_t>(0);
};

}  // namespace anycast::reconciler
