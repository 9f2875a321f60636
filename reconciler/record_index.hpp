// serve's copy of the record store (DESIGN.md section 5): every record read once at start and
// then kept current file by file from inotify events, so a pass with 10 000 records neither
// lists the directory nor re-reads files, and each record is held once.
#pragma once

#include "common/record.hpp"
#include "common/record_store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace anycast::reconciler {

class RecordIndex {
public:
    // Reads nothing until the first rescan(); `store` must outlive the index.
    explicit RecordIndex(common::RecordStore& store) : store_(store) {}

    // Brings every record up to date: files whose stamp changed are re-read, vanished ones
    // dropped. For start-up, an inotify queue overflow and the periodic resync. True when
    // the set of records changed.
    bool rescan();
    // One record file after an inotify event: re-read when its stamp changed, dropped when
    // it is gone (or corrupt: the store quarantines it). True when the set changed.
    bool refresh(const std::string& file_name);

    // Every record, in file-name order, without `netns` and `created` (serve needs neither).
    // Valid until the next rescan() or refresh().
    const std::vector<const common::Record*>& records();
    std::size_t size() const { return entries_.size(); }
    // Goes up whenever the set of records changes: equal generations, equal records.
    std::uint64_t generation() const { return generation_; }

private:
    struct Entry {
        common::RecordStore::FileStamp stamp;
        common::Record record;
    };
    using Entries = std::map<std::string, Entry, std::less<>>;  // by file name
    Entries::iterator reread(Entries::iterator entry, bool& changed);
    void mark_changed() {
        view_stale_ = true;
        ++generation_;
    }

    common::RecordStore& store_;
    Entries entries_;
    std::vector<const common::Record*> view_;
    bool view_stale_ = true;
    std::uint64_t generation_ = 0;
};

}  // namespace anycast::reconciler
