#include "reconciler/readiness/file_source.hpp"

#include "common/json_reader.hpp"
#include "common/log.hpp"
#include "reconciler/readiness/pod_states_json.hpp"

#include <fmt/format.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace anycast::reconciler {

namespace log = common::log;

FileSource::FileSource(boost::asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) {
    const auto slash = path_.rfind('/');
    directory_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
    base_name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
}

void FileSource::start(ChangedHandler on_changed) {
    on_changed_ = std::move(on_changed);
    watch_ = std::make_unique<common::InotifyWatch>(io_, directory_,
                                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM,
                                                    [this](std::string_view name, std::uint32_t mask) {
                                                        if (name == base_name_ || (mask & IN_Q_OVERFLOW) != 0) reload();
                                                    });
    reload();
}

void FileSource::stop() {
    watch_.reset();
    on_changed_ = nullptr;
}

void FileSource::reload() {
    std::string problem;
    std::vector<common::PodState> pods;
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
        problem = fmt::format("open {}: {}", path_, std::strerror(errno));
    } else {
        std::ostringstream text;
        text << in.rdbuf();
        try {
            pods = parse_pod_states(text.str(), path_);
        } catch (const common::JsonError& e) {
            problem = e.what();
        }
    }
    if (!problem.empty()) {
        if (problem != last_problem_) {
            log::warn("readiness file unusable; keeping the last good pod states",
                      {log::kv("file", path_), log::kv("error", problem), log::kv("synced", synced_)});
        }
        last_problem_ = std::move(problem);
        return;
    }
    if (!last_problem_.empty()) log::info("readiness file usable again", {log::kv("file", path_)});
    last_problem_.clear();
    if (synced_ && pods == snapshot_.pods) return;
    snapshot_.pods = std::move(pods);
    synced_ = true;
    log::debug("readiness file read", {log::kv("file", path_), log::kv("pods", snapshot_.pods.size())});
    if (on_changed_) on_changed_();
}

}  // namespace anycast::reconciler
