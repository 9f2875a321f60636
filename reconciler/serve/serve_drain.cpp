// Server's drain (issue 18 item 1), kept apart from serve.cpp (the loop and the pass): the
// commands on serve.sock, the node watch whose reasons drive it, what follows a change, and
// what is announced of the installed set (publish).
#include "reconciler/serve/serve.hpp"

#include "common/kube/kube_config.hpp"
#include "common/log.hpp"
#include "common/pod_lookup_protocol.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "reconciler/serve/node_drain_reasons.hpp"

#include <fmt/chrono.h>

#include <algorithm>

namespace anycast::reconciler {

namespace log = common::log;
namespace kube = common::kube;
using log::kv;

namespace {

// The Node object is one small GET: if it has not come by then (RBAC without nodes, say), the
// routes matter more than the drain.
constexpr std::chrono::seconds k_node_sync_hold{5};

std::string rfc3339(std::chrono::system_clock::time_point time) {
    return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

}  // namespace

std::string Server::answer_command(const std::string& command) {
    common::ServeCommandAnswer answer;
    if (command == "drain") {
        drain_.set_reasons(DrainSource::manual, {{DrainCause::manual, "flock-anycast drain"}}, config_.drain, "");
    } else if (command == "undrain") {
        drain_.set_reasons(DrainSource::manual, {}, config_.drain, "flock-anycast undrain");
        // undrain ends only what `drain` started: a cordoned node stays drained, and says why.
        if (drain_.state() != DrainState::announcing) answer.note = "the drain stays: " + drain_.reason();
    } else if (command != "drain-status") {
        answer.error = "unknown command \"" + command + "\" (drain, undrain or drain-status)";
        return common::encode_command_answer(answer);
    }
    answer.ok = true;
    answer.state = std::string(drain_state_name(drain_.state()));
    answer.reason = drain_.reason();
    answer.since = rfc3339(drain_.since());
    for (const auto& active : drain_.reasons()) {
        answer.reasons.push_back(
            {std::string(drain_cause_name(active.reason.cause)), active.reason.text, rfc3339(active.since)});
    }
    return common::encode_command_answer(answer);
}

std::optional<NodeWatchCounts> Server::node_watch_counts() const {
    if (!node_watcher_) return std::nullopt;
    return NodeWatchCounts{node_watcher_->synced(), node_watcher_->stats().failures};
}

void Server::watch_node() {
    if (node_watcher_) source_counts_.retire(*node_watch_counts());  // its failures stay counted
    node_watcher_.reset();
    if (!common::watches_node(config_) || options_.dry_run) {
        node_changed();  // no watch, no node reasons
        return;
    }
    try {
        kube::NodeWatcherOptions options;
        options.node = config_.node;
        node_watcher_ = std::make_unique<kube::NodeWatcher>(io_, kube::load_kube_config(config_.kubeconfig), options,
                                                            [this](const auto&) { node_changed(); });
        node_watcher_->start();
        log::info("watching the Node object for drain reasons", {kv("node", config_.node)});
        if (published_) return;  // the hold is for the start only
        node_hold_until_ = std::chrono::steady_clock::now() + k_node_sync_hold;
        node_hold_timer_.expires_at(node_hold_until_);
        node_hold_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec || !node_watcher_ || node_watcher_->synced()) return;
            log::warn("the Node object is not listed yet: announcing without knowing whether it drains",
                      {kv("node", config_.node), kv("waitedSeconds", k_node_sync_hold.count())});
            if (installed_prefixes_) publish(*installed_prefixes_);
        });
    } catch (const std::exception& e) {
        // Routes matter more than the drain: serve runs on, `flock-anycast drain` still works.
        log::error("node watch not started: cordon, taints and the drain annotation do not drain this node",
                   {kv("node", config_.node), kv("error", e.what())});
    }
}

void Server::node_changed() {
    // Before the first list nothing is known: the reasons stay as they were (none at start).
    if (node_watcher_ && !node_watcher_->synced()) return;
    const std::optional<kube::NodeInfo> none;
    const auto& node = node_watcher_ ? node_watcher_->node() : none;
    if (node && node->drain_annotation && !drain_annotation_understood(*node->drain_annotation)) {
        log::warn("node annotation anycast.flock.io/drain is neither \"true\" nor \"false\": ignored",
                  {kv("value", *node->drain_annotation)});
    }
    // The first list on a node already draining: when nothing was announced before this
    // serve (a previous one had drained, or none ran), a graceful phase would announce it.
    const bool nothing_announced = !published_ && publisher_->announces_nothing_yet();
    drain_.set_reasons(DrainSource::node, node_drain_reasons(node, config_.drain), config_.drain,
                       "node: no drain reason left", nothing_announced ? DrainStart::withdrawn : DrainStart::graceful);
    if (installed_prefixes_) publish(*installed_prefixes_);  // a pass held back for the first list
}

bool Server::holding_for_node() const {
    return node_watcher_ && !node_watcher_->synced() && std::chrono::steady_clock::now() < node_hold_until_;
}

void Server::node_config_changed(const common::NodeConfig& previous) {
    if (common::watches_node(previous) != common::watches_node(config_) || previous.node != config_.node ||
        previous.kubeconfig != config_.kubeconfig) {
        watch_node();
    } else if (previous.drain.taints != config_.drain.taints) {
        node_changed();
    }
}

void Server::drain_changed() {
    metrics_.drain_state.set(static_cast<double>(drain_.state()));
    metrics_.drain_since_seconds.set(std::chrono::duration<double>(drain_.since().time_since_epoch()).count());
    for (const DrainCause cause : k_drain_causes) {
        const auto count = std::count_if(drain_.reasons().begin(), drain_.reasons().end(),
                                         [&](const auto& active) { return active.reason.cause == cause; });
        metrics_.drain_reasons.with({std::string(drain_cause_name(cause))}).set(static_cast<double>(count));
    }
    policy_prefixes_.observe(config_.policy, *target_, drain_.announcing_prefixes());
    publisher_->set_attributes(render_bird_attributes(config_.bgp, drain_.drain_local_preference()));
    if (installed_prefixes_) publish(*installed_prefixes_);
    request_pod_report();  // drained: the gated pods' condition turns False
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

// Hands the installed set to the publisher when it differs from the last one handed over
// (the BIRD publisher decides when to write it: see BirdPublisher::publish).
void Server::publish(const std::vector<common::Prefix>& installed) {
    installed_prefixes_ = installed;
    if (holding_for_node()) return;  // node_changed() or the hold's end publishes
    // Drained: withdrawn from BGP, while the kernel routes stay.
    std::vector<common::Prefix> announced = drain_.announcing_prefixes() ? installed : std::vector<common::Prefix>{};
    if (published_ && *published_ == announced) return;
    publisher_->publish(announced);
    ++counters_.publishes;
    published_ = std::move(announced);
}

}  // namespace anycast::reconciler
