#include "reconciler/pipeline/record_index.hpp"

#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>

namespace anycast::reconciler {

namespace {

constexpr std::string_view k_suffix = common::RecordStore::k_file_suffix;
// Below this many files one thread reads them faster than threads start.
constexpr std::size_t k_parallel_from = 512;
constexpr unsigned k_max_readers = 4;
// How much older than the start-up read a file's ctime must be for its content to be known
// to predate the read: inode times come from a clock that lags by up to a tick (10 ms at
// HZ=100); a second leaves room for anything coarser.
constexpr std::int64_t k_ctime_margin_ns = 1'000'000'000;

std::int64_t realtime_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::string file_name_of(std::string_view stem) { return std::string(stem) + std::string(k_suffix); }

}  // namespace

// Named by its file's stem, not by a name formatted from its fields: the stem is what
// inotify events name.
RecordIndex::Entry RecordIndex::entry_of(std::string_view stem, common::RecordStore::ReadRecord&& read) {
    return Entry{route_record(std::string(stem), std::move(read.record)), read.stamp};
}

std::optional<RecordIndex::Entry> RecordIndex::read(std::string_view stem) {
    ++files_read_;
    auto read = store_.read_named(file_name_of(stem));
    if (!read) return std::nullopt;
    return entry_of(stem, std::move(*read));
}

// Reading a record takes syscalls (openat, read, close), and in a VM those dominate serve's
// start with 10 000 records (~120 ms on one core, when it also took an fstat). Each thread
// reads a contiguous slice into its own sorted set; the sets' nodes are then spliced into the
// index without copying. Files that do not parse are left for read() afterwards, on this thread, which
// re-checks them under the store's lock and quarantines them. The event loop itself stays
// single-threaded: this runs inside a pass and joins before it goes on.
// No fstat here (a quarter of the syscalls): the entries get size-only stamps, completed at
// the first rescan without re-reading (completes_startup_stamp). Changes meanwhile come as
// inotify events, whose re-read compares content, not stamps.
void RecordIndex::read_all(const std::vector<std::string>& stems) {
    const unsigned readers = std::clamp(std::thread::hardware_concurrency(), 1u, k_max_readers);
    std::vector<Entries> parts(readers);
    std::vector<std::vector<std::string_view>> corrupt(readers);
    std::vector<std::exception_ptr> errors(readers);
    const auto read_slice = [&](unsigned reader) {
        try {
            const std::size_t begin = stems.size() * reader / readers;
            const std::size_t end = stems.size() * (reader + 1) / readers;
            for (std::size_t i = begin; i < end; ++i) {
                bool is_corrupt = false;
                auto read = store_.read_named_concurrently(file_name_of(stems[i]), is_corrupt,
                                                           common::RecordStore::Stamp::size_only);
                if (is_corrupt) corrupt[reader].push_back(stems[i]);
                if (read) parts[reader].insert(parts[reader].end(), entry_of(stems[i], std::move(*read)));
            }
        } catch (...) {
            errors[reader] = std::current_exception();
        }
    };
    {
        std::vector<std::jthread> threads;
        unsigned started = 1;
        try {
            for (; started < readers; ++started) threads.emplace_back(read_slice, started);
        } catch (const std::system_error&) {
            // No thread to be had (a pids limit, say): this thread reads those slices too.
        }
        read_slice(0);
        for (unsigned reader = started; reader < readers; ++reader) read_slice(reader);
    }  // joined
    for (const auto& error : errors) {
        if (error) std::rethrow_exception(error);
    }
    files_read_ += stems.size();
    for (auto& part : parts) entries_.merge(part);
    for (const auto& names : corrupt) {
        for (const auto stem : names) {
            if (auto fresh = read(stem)) entries_.insert(std::move(*fresh));  // rewritten meanwhile
        }
    }
}

bool RecordIndex::rescan() {
    // The index is ordered by stem, which is not always the file names' order ('-' sorts
    // before '.'): strip, then sort when needed.
    const std::int64_t listed_ns = realtime_ns();
    std::vector<std::string> stems = store_.file_names();
    for (auto& name : stems) name.resize(name.size() - k_suffix.size());
    if (!std::is_sorted(stems.begin(), stems.end())) std::sort(stems.begin(), stems.end());

    if (entries_.empty() && stems.size() >= k_parallel_from) {
        // Taken before the directory was listed: see completes_startup_stamp().
        startup_read_ns_ = listed_ns;
        read_all(stems);
        mark_changed();
        return true;
    }
    bool changed = false;
    // Both sides are sorted: one merge drops what vanished, stats what is known (re-read
    // only when its stamp moved) and reads what is new.
    auto stem = stems.begin();
    for (auto entry = entries_.begin(); entry != entries_.end() || stem != stems.end();) {
        if (entry != entries_.end() && (stem == stems.end() || entry->record.name < *stem)) {
            entry = entries_.erase(entry);
            changed = true;
        } else if (entry == entries_.end() || *stem < entry->record.name) {
            if (auto fresh = read(*stem)) {
                entries_.insert(entry, std::move(*fresh));
                changed = true;
            }
            ++stem;
        } else {
            const auto stamp = store_.stamp_of(file_name_of(*stem));
            if (stamp && (*stamp == entry->stamp || completes_startup_stamp(*entry, *stamp))) {
                entry->stamp = *stamp;
                ++entry;
            } else {
                entry = reread(entry, changed);
            }
            ++stem;
        }
    }
    if (changed) mark_changed();
    return changed;
}

bool RecordIndex::refresh(std::string_view file_name) {
    if (!common::RecordStore::is_record_file_name(file_name)) return false;
    const std::string_view stem = file_name.substr(0, file_name.size() - k_suffix.size());
    auto entry = entries_.find(stem);
    bool changed = false;
    if (entry != entries_.end()) {
        reread(entry, changed);
    } else if (auto fresh = read(stem)) {
        entries_.insert(std::move(*fresh));
        changed = true;
    }
    if (changed) mark_changed();
    return changed;
}

// A file whose inode changed last well before the start-up read began (ctime: any write,
// rename or attribute change) still holds what that read found, if its size agrees. Only an
// in-place rewrite of the same size whose inotify event was lost, after the system clock
// stepped back by more than the margin, could pass unnoticed. Anything newer is re-read.
bool RecordIndex::completes_startup_stamp(const Entry& entry, const common::RecordStore::FileStamp& now) const {
    return entry.stamp.inode == 0 && startup_read_ns_ != 0 && now.size == entry.stamp.size &&
           now.ctime_ns < startup_read_ns_ - k_ctime_margin_ns;
}

// Re-reads a known file: dropped when gone or corrupt, replaced when its content changed (an
// event for the version already held changes nothing). Returns the entry after it.
RecordIndex::Entries::iterator RecordIndex::reread(Entries::iterator entry, bool& changed) {
    auto fresh = read(entry->record.name);
    if (!fresh) {
        changed = true;
        return entries_.erase(entry);
    }
    // Same stamp, or same content under a new stamp (touched, rewritten unchanged, or a
    // start-up entry's size-only stamp): nothing changed for resolve.
    if (fresh->stamp == entry->stamp || fresh->record == entry->record) {
        entry->stamp = fresh->stamp;
        return std::next(entry);
    }
    changed = true;
    // Same key: the node is reused in place.
    auto node = entries_.extract(entry++);
    node.value() = std::move(*fresh);
    entries_.insert(entry, std::move(node));
    return entry;
}

const std::vector<const RouteRecord*>& RecordIndex::records() {
    if (view_stale_) {
        view_.clear();
        view_.reserve(entries_.size());
        for (const auto& entry : entries_) view_.push_back(&entry.record);
        view_stale_ = false;
    }
    return view_;
}

}  // namespace anycast::reconciler
