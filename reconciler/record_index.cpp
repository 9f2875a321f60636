#include "reconciler/record_index.hpp"

#include <algorithm>

namespace anycast::reconciler {

namespace {

constexpr std::string_view k_suffix = ".json";

std::string file_name_of(std::string_view stem) { return std::string(stem) + std::string(k_suffix); }

}  // namespace

std::optional<RecordIndex::Entry> RecordIndex::read(std::string_view stem) {
    auto read = store_.read_named(file_name_of(stem));
    if (!read) return std::nullopt;
    // The file's own name, not one formatted from its fields: it is what events name.
    auto& record = read->record;
    return Entry{RouteRecord{std::string(stem), std::move(record.pod), std::move(record.ips), std::move(record.nexthops)},
                 read->stamp};
}

bool RecordIndex::rescan() {
    // The index is ordered by stem, which is not always the file names' order ('-' sorts
    // before '.'): strip, then sort when needed.
    std::vector<std::string> stems = store_.file_names();
    for (auto& name : stems) name.resize(name.size() - k_suffix.size());
    if (!std::is_sorted(stems.begin(), stems.end())) std::sort(stems.begin(), stems.end());

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
            entry = (stamp && *stamp == entry->stamp) ? std::next(entry) : reread(entry, changed);
            ++stem;
        }
    }
    if (changed) mark_changed();
    return changed;
}

bool RecordIndex::refresh(std::string_view file_name) {
    if (!file_name.ends_with(k_suffix)) return false;
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

// Re-reads a known file: dropped when gone or corrupt, replaced when its stamp moved (an
// event for the version already held changes nothing). Returns the entry after it.
RecordIndex::Entries::iterator RecordIndex::reread(Entries::iterator entry, bool& changed) {
    auto fresh = read(entry->record.name);
    if (!fresh) {
        changed = true;
        return entries_.erase(entry);
    }
    if (fresh->stamp == entry->stamp) return std::next(entry);
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
