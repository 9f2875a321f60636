#include "reconciler/serve/stale_records.hpp"

#include "common/log.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <string_view>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

namespace {

// "/proc/<pid>/ns/net" → "/proc/<pid>"; "" for any other path.
std::string process_directory(const std::string& path) {
    static constexpr std::string_view k_prefix = "/proc/", k_suffix = "/ns/net";
    if (!path.starts_with(k_prefix) || !path.ends_with(k_suffix)) return {};
    const std::string_view pid =
        std::string_view(path).substr(k_prefix.size(), path.size() - k_prefix.size() - k_suffix.size());
    if (pid.empty() || pid.size() > 10 || pid.find_first_not_of("0123456789") != std::string_view::npos) return {};
    return path.substr(0, k_prefix.size() + pid.size());
}

}  // namespace

bool in_initial_pid_namespace() {
    // The kernel's fixed inode of the initial pid namespace (PROC_PID_INIT_INO).
    constexpr ino_t k_initial_pid_namespace = 0xEFFFFFFCU;
    struct stat st {};
    return ::stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == k_initial_pid_namespace;
}

bool netns_gone(const std::string& path) {
    if (path.empty() || path.front() != '/') return false;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 || errno != ENOENT) return false;
    if (const std::string process = process_directory(path); !process.empty()) {
        static const bool sees_host_pids = in_initial_pid_namespace();
        return sees_host_pids && ::lstat(process.c_str(), &st) != 0 && errno == ENOENT;
    }
    const std::string directory = path.substr(0, path.rfind('/'));
    return !directory.empty() && ::stat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> remove_stale_records(common::RecordStore& store,
                                              const std::vector<const RouteRecord*>& records, bool dry_run) {
    std::vector<std::string> removed;
    for (const RouteRecord* record : records) {
        if (!netns_gone(record->netns)) continue;
        const std::string file_name = record->name + std::string(common::RecordStore::k_file_suffix);
        if (dry_run) {
            log::info("dry run: would remove a record whose network namespace is gone",
                      {kv("record", record->name), kv("netns", record->netns)});
            continue;
        }
        const bool gone = store.remove_named_if(file_name, [&](const common::Record& current) {
            return current.netns == record->netns && netns_gone(current.netns);
        });
        if (!gone) continue;
        log::info("removed a record whose network namespace is gone",
                  {kv("record", record->name), kv("netns", record->netns)});
        removed.push_back(file_name);
    }
    return removed;
}

}  // namespace anycast::reconciler
