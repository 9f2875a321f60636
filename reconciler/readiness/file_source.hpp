// The `file` readiness source: pod states from a JSON file (reconciler/readiness/pod_states_json.hpp),
// re-read when inotify on its directory reports it written, renamed into place or removed.
// A malformed, missing or oversized (over 4 MiB) file keeps the last good state in force and
// is logged once.
#pragma once

#include "common/inotify_watch.hpp"
#include "reconciler/readiness/readiness_source.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

namespace anycast::reconciler {

class FileSource : public ReadinessSource {
public:
    FileSource(boost::asio::io_context& io, std::string path);

    // Reads the file at once (synced if it parses) and watches its directory; throws
    // SystemError when the directory cannot be watched.
    void start(ChangedHandler on_changed) override;
    void stop() override;
    const ReadinessSnapshot& snapshot() const override { return snapshot_; }
    bool synced() const override { return synced_; }
    std::string_view name() const override { return "file"; }

    const std::string& path() const { return path_; }

private:
    void reload();

    boost::asio::io_context& io_;
    std::string path_;
    std::string directory_;
    std::string base_name_;
    std::unique_ptr<common::InotifyWatch> watch_;
    ChangedHandler on_changed_;
    ReadinessSnapshot snapshot_;
    bool synced_ = false;
    std::string last_problem_;  // logged once until the file is good again
};

}  // namespace anycast::reconciler
