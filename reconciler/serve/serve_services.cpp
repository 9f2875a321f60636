// Server's services beside the reconcile pass, kept apart from serve.cpp (the loop and the
// pass): serve.sock (the CNI plugin's pod lookups; the drain commands are serve_drain.cpp's)
// and the bird.conf generated from the bgp section (issue 17).
#include "reconciler/serve/serve.hpp"

#include "common/kube/kube_config.hpp"
#include "common/log.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "reconciler/bird/bird_conf_render.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

std::unique_ptr<PodLookup> Server::make_pod_lookup(const common::NodeConfig& config) {
    std::optional<common::kube::KubeConfig> access;
    if (config.readiness.source == common::ReadinessSourceKind::kubernetes) {
        try {
            access = common::kube::load_kube_config(config.kubeconfig);
        } catch (const std::exception& e) {
            log::error("pod lookups: no Kubernetes access for misses", {kv("error", e.what())});
        }
    }
    PodLookupSettings settings;
    settings.annotation = config.annotation;
    return std::make_unique<PodLookup>(
        io_, [this] { return readiness_ ? readiness_->pod_cache() : nullptr; }, std::move(access), settings);
}

void Server::listen_for_lookups(const std::string& state_dir) {
    pod_lookup_server_.reset();  // the old socket goes before the new one is bound
    try {
        pod_lookup_server_ = std::make_unique<PodLookupServer>(
            io_, common::serve_socket_path(state_dir),
            [this](const common::PodLookupRequest& request, PodLookupServer::Done done) {
                if (!pod_lookup_) {
                    done(common::PodLookupAnswer::failed("serve is starting", true));
                    return;
                }
                pod_lookup_->lookup(request, [this, request, done = std::move(done)](common::PodLookupAnswer answer) {
                    const std::string pod = request.namespace_ + "/" + request.name;
                    if (answer.ok) {
                        (answer.from == "cache" ? metrics_.pod_lookups_cache : metrics_.pod_lookups_apiserver).inc();
                        log::info("pod lookup",
                                  {kv("pod", pod), kv("from", answer.from), kv("ips", answer.value.value_or(""))});
                    } else {
                        metrics_.pod_lookups_error.inc();
                        log::warn("pod lookup failed",
                                  {kv("pod", pod), kv("transient", answer.transient), kv("error", answer.error)});
                    }
                    done(std::move(answer));
                });
            },
            [this](const std::string& command) { return answer_command(command); });
    } catch (const std::exception& e) {
        log::error("pod lookups: serve.sock not opened; pods that may claim anycast IPs cannot start",
                   {kv("stateDir", state_dir), kv("error", e.what())});
    }
}

void Server::write_bird_conf() {
    if (config_.bird.config.empty() || options_.dry_run) return;
    if (!config_.bgp.enabled() || config_.bgp.peers.empty()) {
        log::warn("bird.config is set but there is no bgp section with peers: no bird.conf is generated",
                  {kv("path", config_.bird.config)});
        return;
    }
    try {
        if (!write_file_if_changed(config_.bird.config, render_bird_conf(config_, options_.config_path))) return;
    } catch (const std::exception& e) {
        log::error("bird.conf not written; BIRD keeps its last config",
                   {kv("path", config_.bird.config), kv("error", e.what())});
        return;
    }
    log::info("bird.conf written from the bgp section",
              {kv("path", config_.bird.config), kv("peers", config_.bgp.peers.size())});
    publisher_->reconfigure();
}

}  // namespace anycast::reconciler
