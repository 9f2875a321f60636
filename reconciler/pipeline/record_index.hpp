// serve's copy of the record store (docs/architecture.md section 5): every record read once at start and
// then kept current file by file from inotify events, so a pass with 10 000 records neither
// lists the directory nor re-reads files. Each record is held once, and only the part resolve
// reads (RouteRecord).
#pragma once

#include "common/store/record_store.hpp"
#include "reconciler/pipeline/resolve.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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
    // How many record files have been read (not stat'ed): for tests.
    std::size_t files_read() const { return files_read_; }
    // One record file (by its file name) after an inotify event: re-read, replaced when its
    // content changed, dropped when it is gone (or corrupt: the store quarantines it). True
    // when the set changed.
    bool refresh(std::string_view file_name);

    // Every record, ordered by name (the file stem). Valid until the next rescan() or refresh().
    const std::vector<const RouteRecord*>& records();
    std::size_t size() const { return entries_.size(); }
    // Goes up whenever the set of records changes: equal generations, equal records.
    std::uint64_t generation() const { return generation_; }

private:
    struct Entry {
        RouteRecord record;  // record.name, the file stem, is the key
        // Not part of the key: a size-only stamp from the start-up read is completed in place.
        mutable common::RecordStore::FileStamp stamp;
    };
    struct ByName {
        using is_transparent = void;
        static std::string_view name(const Entry& e) { return e.record.name; }
        static std::string_view name(std::string_view s) { return s; }
        bool operator()(const auto& a, const auto& b) const { return name(a) < name(b); }
    };
    using Entries = std::set<Entry, ByName>;

    static Entry entry_of(std::string_view stem, common::RecordStore::ReadRecord&& read);
    // Reads `stem`.json; nullopt when it is gone or corrupt.
    std::optional<Entry> read(std::string_view stem);
    // Start-up: every file read on several threads (syscalls dominate; see the .cpp).
    void read_all(const std::vector<std::string>& stems);
    Entries::iterator reread(Entries::iterator entry, bool& changed);
    // Whether `now` (a file's stamp at a rescan) may complete the size-only stamp the
    // start-up read left in `entry` without reading the file again.
    bool completes_startup_stamp(const Entry& entry, const common::RecordStore::FileStamp& now) const;
    void mark_changed() {
        view_stale_ = true;
        ++generation_;
    }

    common::RecordStore& store_;
    Entries entries_;
    std::vector<const RouteRecord*> view_;
    bool view_stale_ = true;
    std::uint64_t generation_ = 0;
    std::size_t files_read_ = 0;
    // CLOCK_REALTIME (ns) when the start-up read listed the directory; 0 before.
    std::int64_t startup_read_ns_ = 0;
};

}  // namespace anycast::reconciler
