// Server's services beside the reconcile pass, kept apart from serve.cpp (the loop and the
// pass): serve.sock (the CNI plugin's pod lookups, the drain commands), the drain (issue 18
// item 1) and the bird.conf generated from the bgp section (issue 17).
#include "reconciler/serve/serve.hpp"

#include "common/kube/kube_config.hpp"
#include "common/log.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "reconciler/bird/bird_conf_render.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/pipeline/pod_announcements.hpp"

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
                PodReporterCounters{[this] { metrics_.pod_condition_patches_ok.inc(); },
                                    [this] { metrics_.pod_condition_patches_failed.inc(); },
                                    [this] { metrics_.pod_events_sent.inc(); },
                                    [this] { metrics_.pod_events_dropped.inc(); },
                                    [this] { metrics_.pod_events_failed.inc(); }});
        } catch (const std::exception& e) {
            log::error("readiness gates and events: the apiserver cannot be reached", {kv("error", e.what())});
        }
    }
    PodLookupSettings settings;
    settings.annotation = config.annotation;
    pod_lookup_ = std::make_unique<PodLookup>(io_, cache, std::move(access), settings);
}

void Server::watch_publisher() {
    publisher_->on_applied([this] { report_pods(); });
}

void Server::report_pods() {
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

std::string Server::answer_command(const std::string& command) {
    common::ServeCommandAnswer answer;
    if (command == "drain") {
        drain_.start("flock-anycast drain", config_.drain);
    } else if (command == "undrain") {
        drain_.stop("flock-anycast undrain");
    } else if (command != "drain-status") {
        answer.error = "unknown command \"" + command + "\" (drain, undrain or drain-status)";
        return common::encode_command_answer(answer);
    }
    answer.ok = true;
    answer.state = std::string(drain_state_name(drain_.state()));
    answer.reason = drain_.reason();
    return common::encode_command_answer(answer);
}

void Server::drain_changed() {
    metrics_.drain_state.set(static_cast<double>(drain_.state()));
    policy_prefixes_.observe(config_.policy, *target_, drain_.announcing_prefixes());
    publisher_->set_attributes(render_bird_attributes(config_.bgp, drain_.drain_local_preference()));
    if (installed_prefixes_) publish(*installed_prefixes_);
    report_pods();
    if (exit_signal_ != 0 && drain_.state() == DrainState::drained) {
        exit_when_published(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    }
}

void Server::exit_when_published(std::chrono::steady_clock::time_point deadline) {
    if (publisher_->settled() || std::chrono::steady_clock::now() >= deadline) {
        finish_shut_down(exit_signal_);
        return;
    }
    exit_timer_.expires_after(std::chrono::milliseconds(20));
    exit_timer_.async_wait([this, deadline](boost::system::error_code ec) {
        if (!ec) exit_when_published(deadline);
    });
}

}  // namespace anycast::reconciler
