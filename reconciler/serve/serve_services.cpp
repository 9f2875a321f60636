// Server's services beside the reconcile pass, kept apart from serve.cpp (the loop and the
// pass): serve.sock (the CNI plugin's pod lookups; the drain commands are serve_drain.cpp's),
// the pods' readiness gate and events (issue 18), the bird.conf generated from the bgp
// section (issue 17) and systemd's notifications.
#include "reconciler/serve/serve.hpp"

#include "common/kube/kube_config.hpp"
#include "common/log.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "reconciler/bird/bird_conf_render.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/pipeline/pod_announcements.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

void Server::make_kube_clients(const common::NodeConfig& config) {
    std::optional<common::kube::KubeConfig> access;
    if (config.readiness.source == common::ReadinessSourceKind::kubernetes) {
        try {
            access = common::kube::load_kube_config(config.kubeconfig);
        } catch (const std::exception& e) {
            log::error("pod lookups and readiness gates: no Kubernetes access", {kv("error", e.what())});
        }
    }
    const auto cache = [this] { return readiness_ ? readiness_->pod_cache() : nullptr; };
    pod_reporter_.reset();
    if (access) {
        try {
            pod_reporter_ = std::make_unique<PodReporter>(
                io_, *access, cache, PodReporterSettings{.node = config.node},
                PodReporterCounters{
                    [this] { metrics_.pod_condition_patches_ok.inc(); },
                    [this] { metrics_.pod_condition_patches_failed.inc(); }, [this] { metrics_.pod_events_sent.inc(); },
                    [this] { metrics_.pod_events_dropped.inc(); }, [this] { metrics_.pod_events_failed.inc(); }});
        } catch (const std::exception& e) {
            log::error("readiness gates and events: the apiserver cannot be reached", {kv("error", e.what())});
        }
    }
    PodLookupSettings settings;
    settings.annotation = config.annotation;
    pod_lookup_ = std::make_unique<PodLookup>(io_, cache, std::move(access), settings);
}

void Server::watch_publisher() {
    publisher_->on_applied([this] { request_pod_report(); });
}

void Server::request_pod_report() {
    if (!pod_reporter_ || std::exchange(pod_report_posted_, true)) return;
    boost::asio::post(io_, [this] { report_pods(); });
}

void Server::report_pods() {
    pod_report_posted_ = false;
    if (!pod_reporter_ || !installed_prefixes_) return;
    static const std::vector<common::Prefix> none;
    const auto& applied = publisher_->applied();
    pod_reporter_->report(pod_announcements(AnnouncementInputs{.records = records_in_.index->records(),
                                                               .pods = readiness_->snapshot(),
                                                               .policy = config_.policy,
                                                               .installed = *installed_prefixes_,
                                                               .applied = applied ? *applied : none,
                                                               .drained = !drain_.announcing_prefixes()}));
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

// READY=1 after the first clean pass (the readiness source has synced, or no pass runs), the
// same moment /readyz turns 200; then STATUS= whenever a pass changed something.
void Server::notify_systemd(const PassSummary& summary) {
    if (!systemd_.enabled() || (systemd_told_ready_ && summary.changes == 0) || !health_.ready()) return;
    const std::string status = fmt::format(
        "STATUS={} routes installed for {} eligible of {} records{}", summary.routes, summary.eligible_records,
        summary.records, summary.errors > 0 ? fmt::format(", {} changes refused", summary.errors) : "");
    systemd_.notify(systemd_told_ready_ ? status : "READY=1\n" + status);
    systemd_told_ready_ = true;
}

}  // namespace anycast::reconciler
