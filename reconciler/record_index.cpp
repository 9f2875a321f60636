#include "reconciler/record_index.hpp"

namespace anycast::reconciler {

namespace {

// serve routes by pod, IPs and next hops; where the pod's netns is and when the record was
// made only matter to the CNI plugin and status (which read the store themselves). Dropping
// them keeps 10 000 records in a few MiB.
common::Record kept_for_serve(common::Record record) {
    std::string().swap(record.netns);
    std::string().swap(record.created);
    return record;
}

}  // namespace

bool RecordIndex::rescan() {
    const std::vector<std::string> names = store_.file_names();
    bool changed = false;
    // Both sides are sorted by name: one merge drops what vanished, stats what is known
    // (re-read only when its stamp moved) and reads what is new.
    auto name = names.begin();
    for (auto entry = entries_.begin(); entry != entries_.end() || name != names.end();) {
        if (entry != entries_.end() && (name == names.end() || entry->first < *name)) {
            entry = entries_.erase(entry);
            changed = true;
        } else if (entry == entries_.end() || *name < entry->first) {
            if (auto read = store_.read_named(*name)) {
                entries_.emplace_hint(entry, *name, Entry{read->stamp, kept_for_serve(std::move(read->record))});
                changed = true;
            }
            ++name;
        } else {
            const auto stamp = store_.stamp_of(*name);
            entry = (stamp && *stamp == entry->second.stamp) ? std::next(entry) : reread(entry, changed);
            ++name;
        }
    }
    if (changed) mark_changed();
    return changed;
}

bool RecordIndex::refresh(const std::string& file_name) {
    auto entry = entries_.find(file_name);
    bool changed = false;
    if (entry != entries_.end()) {
        reread(entry, changed);
    } else if (auto read = store_.read_named(file_name)) {
        entries_.emplace(file_name, Entry{read->stamp, kept_for_serve(std::move(read->record))});
        changed = true;
    }
    if (changed) mark_changed();
    return changed;
}

// Re-reads a known file: dropped when gone or corrupt, replaced when its stamp moved (an
// event for the version already held changes nothing). Returns the entry after it.
RecordIndex::Entries::iterator RecordIndex::reread(Entries::iterator entry, bool& changed) {
    auto read = store_.read_named(entry->first);
    if (!read) {
        changed = true;
        return entries_.erase(entry);
    }
    if (read->stamp != entry->second.stamp) {
        entry->second = Entry{read->stamp, kept_for_serve(std::move(read->record))};
        changed = true;
    }
    return std::next(entry);
}

const std::vector<const common::Record*>& RecordIndex::records() {
    if (view_stale_) {
        view_.clear();
        view_.reserve(entries_.size());
        for (const auto& [name, entry] : entries_) view_.push_back(&entry.record);
        view_stale_ = false;
    }
    return view_;
}

}  // namespace anycast::reconciler
