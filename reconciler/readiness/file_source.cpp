#include "reconciler/readiness/file_source.hpp"

#include "common/json_reader.hpp"
#include "common/log.hpp"
#include "reconciler/readiness/pod_states_json.hpp"

#include <fmt/format.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace anycast::reconciler {

namespace log = common::log;

namespace {

// A readiness file lists one node's pods: a few hundred entries, tens of KiB. One far larger
// is a writer's bug, and reading it whole held it and its parse in serve's memory (a 64 MiB
// file: 650 MB peak, 460 MB kept, a second of a blocked loop; test/reliability/
// faults_serve_test.cpp), so past this size it is unusable like a malformed one.
constexpr std::size_t k_max_file_bytes = std::size_t{4} << 20;

}  // namespace

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
        std::string text;
        char chunk[65536];
        while (text.size() <= k_max_file_bytes && (in.read(chunk, sizeof chunk) || in.gcount() > 0)) {
            text.append(chunk, static_cast<std::size_t>(in.gcount()));
        }
        if (text.size() > k_max_file_bytes) {
            problem = fmt::format("{}: too large (over {} bytes); not read", path_, k_max_file_bytes);
        } else {
            try {
                pods = parse_pod_states(text, path_);
            } catch (const common::JsonError& e) {
                problem = e.what();
            }
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
