// The record store (docs/architecture.md section 5): one JSON file per attachment under
// <stateDir>/records/, written crash-safely (temp file in <stateDir>/tmp/, fsync, rename,
// directory fsync). Every read-modify-write holds flock(LOCK_EX) on <stateDir>/lock.
// Records that do not parse are moved to <stateDir>/quarantine/ with a log line; records of a
// newer format version are read by the fields this build knows, else skipped with a warning.
#pragma once

#include "common/store/record.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace anycast::common {

// A store operation failed (I/O, permissions, bad name). The CNI plugin maps it to code 103.
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The record file of an attachment exists but does not parse.
class CorruptRecordError : public StoreError {
public:
    CorruptRecordError(std::string path, const std::string& problem);
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The record file of an attachment was written by a newer build in a form this one cannot
// read. Left in place (never quarantined): the newer build reads it after an upgrade back.
class RecordTooNewError : public StoreError {
public:
    RecordTooNewError(std::string path, const std::string& problem);
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class RecordStore;

// Holds the store's exclusive lock for a scope. Re-entrant per RecordStore object: nested
// guards (e.g. put() inside a caller's read-modify-write) share the one flock.
class StoreLock {
public:
    explicit StoreLock(RecordStore& store);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

private:
    RecordStore& store_;
};

class RecordStore {
public:
    // Nothing is touched until the first operation; directories are created (0700) on demand.
    explicit RecordStore(std::string state_dir);
    ~RecordStore();
    RecordStore(const RecordStore&) = delete;
    RecordStore& operator=(const RecordStore&) = delete;

    // Identifies one version of a record file without reading it: a rename gives a new inode,
    // an in-place rewrite new times.
    struct FileStamp {
        // 0: taken without fstat (Stamp::size_only): only `size`, the bytes read, is known.
        ino_t inode = 0;
        off_t size = 0;
        std::int64_t mtime_ns = 0;
        std::int64_t ctime_ns = 0;
        bool operator==(const FileStamp&) const = default;
    };
    struct ReadRecord {
        Record record;
        FileStamp stamp;  // of the file as it was read
    };

    // Every parseable record, sorted by file name. Corrupt ones are quarantined and skipped;
    // unreadable ones of a newer version skipped with a warning.
    // Takes no lock (renames are atomic). Reads every file: for one-shot callers (GC, plan,
    // status); serve keeps its records current file by file (reconciler/pipeline/record_index.hpp).
    std::vector<Record> list();
    // The names of the record files in records/, sorted; empty when the directory does not
    // exist yet. One readdir, no stat: read_named() refuses what is not a regular file.
    std::vector<std::string> file_names();
    // The stamp of one file of records/; nullopt when it is gone or not a regular file.
    std::optional<FileStamp> stamp_of(const std::string& file_name);
    // Reads one file of records/ by name; nullopt when it is gone or not a regular file. A
    // file that does not parse is quarantined (after a re-check under the lock, since a
    // writer may have replaced it) and nullopt returned; one of a newer version that does not
    // read is left in place with a warning.
    std::optional<ReadRecord> read_named(const std::string& file_name);
    // read_named() without the quarantine: touches no shared state, so several threads may
    // call it at once once file_names() has run. A file that does not parse comes back as
    // nullopt with `corrupt` set, for a later read_named() to re-check and quarantine (or,
    // when it is of a newer version, to skip with a warning).
    // Stamp::size_only takes no fstat (a quarter of the syscalls of a read, for serve's
    // start): the stamp then holds only the size, and a non-regular file is only noticed if
    // reading it fails (file_names() already leaves out what the directory says is no file).
    enum class Stamp { full, size_only };
    std::optional<ReadRecord> read_named_concurrently(const std::string& file_name, bool& corrupt,
                                                      Stamp stamp = Stamp::full);
    // Whether `name` is a record file name (what file_names() returns and inotify should count).
    static bool is_record_file_name(std::string_view name);
    // A record file's name is its stem ("<network>_<containerID>_<ifname>") plus this.
    static constexpr std::string_view k_file_suffix = ".json";

    // The record of an attachment; nullopt when there is none. A file that does not parse
    // throws CorruptRecordError (left in place: the caller decides, see quarantine()); one of
    // a newer version that does not read, RecordTooNewError.
    std::optional<Record> get(std::string_view network, std::string_view container_id, std::string_view ifname);

    // Writes (or replaces) the record crash-safely under the lock; removes temp files left
    // by writers that died before their rename. Fills nothing in: the record is written as is.
    void put(const Record& record);

    // Removes an attachment's record under the lock; false when there was none.
    bool remove(std::string_view network, std::string_view container_id, std::string_view ifname);

    // Removes the file `file_name` of records/ under the lock when it still parses and
    // `condition` holds for what it holds now; false otherwise (gone, corrupt, replaced).
    bool remove_named_if(const std::string& file_name, const std::function<bool(const Record&)>& condition);

    // Moves an attachment's record file to quarantine/ (with a log line); false when absent.
    bool quarantine(std::string_view network, std::string_view container_id, std::string_view ifname);

    // Creates the directories and the lock file if needed and checks they are usable
    // (STATUS). Throws StoreError naming what is wrong.
    void check_usable();

    const std::string& state_dir() const { return state_dir_; }
    std::string records_dir() const;
    std::string quarantine_dir() const;
    std::string tmp_dir() const;
    std::string lock_path() const;
    // "<network>_<containerID>_<ifname>", each part escaped so that no two attachments share
    // a name: '_', '%', '/', control bytes and a leading '.' become %XX (docs/architecture.md
    // section 5). Never throws: also names records for humans (status, skipped lists).
    static std::string stem(std::string_view network, std::string_view container_id, std::string_view ifname);
    // stem() + ".json"; StoreError when a part is empty or the name would exceed 200 bytes.
    static std::string file_name(std::string_view network, std::string_view container_id, std::string_view ifname);
    std::string record_path(std::string_view network, std::string_view container_id, std::string_view ifname) const;

private:
    friend class StoreLock;
    void acquire();
    void release();
    void ensure_dirs();
    void clean_temp_files();
    void quarantine_file(const std::string& name, const std::string& problem);
    // Records written before names were escaped (docs/architecture.md section 5) are found,
    // replaced and removed under their old name "<network>_<containerID>_<ifname>.json".
    static std::optional<std::string> legacy_file_name(std::string_view network, std::string_view container_id,
                                                       std::string_view ifname);
    std::optional<Record> read_legacy(std::string_view network, std::string_view container_id, std::string_view ifname);
    // True when a record of this attachment was there under its old name and is gone now.
    bool remove_legacy(std::string_view network, std::string_view container_id, std::string_view ifname);
    int records_dir_fd();  // -1 (errno ENOENT) while records/ does not exist

    std::string state_dir_;
    int lock_fd_ = -1;
    int records_fd_ = -1;  // records/, for *at() calls: no path walk per file
    int lock_depth_ = 0;
    bool dirs_ready_ = false;
};

}  // namespace anycast::common
