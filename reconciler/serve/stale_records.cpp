#include "reconciler/serve/stale_records.hpp"

#include "common/log.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace anycast::reconciler {

namespace log = common::log;
using log::kv;

bool netns_gone(const std::string& path) {
    if (path.empty() || path.front() != '/') return false;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 || errno != ENOENT) return false;
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
