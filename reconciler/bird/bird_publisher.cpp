#include "reconciler/bird/bird_publisher.hpp"

#include "common/log.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <fstream>
#include <iterator>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

bool BirdPublisher::announces_nothing_yet() const {
    std::ifstream file(settings_.fragment_path);
    if (!file) return errno == ENOENT;  // no include, no prefix; unreadable: cannot tell
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // The sets come first in the include, the attributes after them.
    return text.starts_with(render_bird_sets({}, ""));
}

BirdPublisher::BirdPublisher(boost::asio::io_context& io, BirdPublisherSettings settings)
    : settings_(std::move(settings)),
      client_(io, settings_.socket_path, settings_.command_timeout),
      reloader_(io, client_, settings_.reload),
      shrink_timer_(io),
      write_retry_timer_(io),
      write_backoff_(settings_.write_retry_initial, settings_.write_retry_max) {
    // BIRD has the include's sets once a `configure` succeeded with none queued behind it
    // (a queued one was asked for after a newer write).
    reloader_.on_attempt_finished([this] {
        const std::uint64_t succeeded = reloader_.stats().succeeded;
        if (succeeded == reloads_seen_) return;
        reloads_seen_ = succeeded;
        if (!reloader_.busy() && written_) mark_applied(*written_);
    });
}

BirdPublisher::~BirdPublisher() {
    // The newest set not yet in the include: a shrink waiting for its delay, else one whose
    // write failed.
    const auto& last = deferred_ ? deferred_ : unwritten_;
    if (!last) return;
    try {
        write_file_if_changed(settings_.fragment_path, render_bird_sets(*last, settings_.attributes));
    } catch (const std::exception& e) {
        log::error("bird include not written at exit", {kv("error", e.what())});
    }
}

void BirdPublisher::publish(const std::vector<common::Prefix>& installed) {
    const bool only_shrank = written_ && settings_.shrink_delay.count() > 0 &&
                             std::includes(written_->begin(), written_->end(), installed.begin(), installed.end());
    if (!only_shrank) {
        drop_deferred();
        write_and_reload(installed);
        return;
    }
    if (installed == *written_) {  // grew back before the shrink was written
        drop_deferred();
        return;
    }
    const bool armed = deferred_.has_value();
    deferred_ = installed;
    if (armed) return;
    shrink_timer_.expires_after(settings_.shrink_delay);
    shrink_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !deferred_) return;
        const std::vector<common::Prefix> shrunk = std::move(*deferred_);
        deferred_.reset();
        write_and_reload(shrunk);
    });
}

void BirdPublisher::set_attributes(std::string attributes) {
    if (attributes == settings_.attributes) return;
    settings_.attributes = std::move(attributes);
    // The newest set: one waiting for its delay or for a retry, else the one in the include.
    const auto& newest = deferred_ ? deferred_ : (unwritten_ ? unwritten_ : written_);
    if (!newest) return;  // nothing published yet: the first publish writes them
    const std::vector<common::Prefix> set = *newest;
    drop_deferred();
    write_and_reload(set);
}

void BirdPublisher::drop_deferred() {
    shrink_timer_.cancel();
    deferred_.reset();
}

void BirdPublisher::write_and_reload(const std::vector<common::Prefix>& installed) {
    unwritten_.reset();  // this set replaces any that waits for a retry
    const std::string text = render_bird_sets(installed, settings_.attributes);
    bool changed = false;
    try {
        changed = write_file_if_changed(settings_.fragment_path, text);
        last_write_ok_ = true;
        write_backoff_.reset();
    } catch (const std::exception& e) {
        // Reloading would only re-read the old sets: write again later, until it works.
        last_write_ok_ = false;
        last_write_error_ = e.what();
        ++write_failures_;
        retry_write_later(installed);
        log::error("bird include not written, BIRD keeps its previous sets; retrying", {kv("error", e.what())});
        return;
    }
    written_ = installed;
    if (changed)
        log::info("bird include written", {kv("path", settings_.fragment_path), kv("prefixes", installed.size())});
    // The first publish reloads even when the file is unchanged: a previous serve may have
    // written it and died before BIRD re-read it.
    if (changed || first_) {
        reloader_.request();
    } else if (!reloader_.busy() && reloader_.stats().last_error.empty()) {
        mark_applied(installed);  // the same text BIRD took in at the last reload
    }
    first_ = false;
}

void BirdPublisher::retry_write_later(const std::vector<common::Prefix>& installed) {
    unwritten_ = installed;
    write_retry_timer_.expires_after(write_backoff_.next());
    // The set is read when the timer fires, not captured: a newer one may have replaced it
    // (or been written) by then.
    write_retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !unwritten_) return;
        const std::vector<common::Prefix> retry = std::move(*unwritten_);
        write_and_reload(retry);
    });
}

std::optional<ReloadCounts> BirdPublisher::reload_counts() const {
    const BirdReloadStats& stats = reloader_.stats();
    return ReloadCounts{stats.succeeded, stats.rejected + stats.transport_failures, write_failures_};
}

std::optional<std::string> BirdPublisher::trouble() const {
    if (!last_write_ok_) return "the include " + settings_.fragment_path + " is not written: " + last_write_error_;
    const std::string& error = reloader_.stats().last_error;
    if (!error.empty()) return "BIRD on " + settings_.socket_path + " did not take the include: " + error;
    return std::nullopt;
}

}  // namespace anycast::reconciler
