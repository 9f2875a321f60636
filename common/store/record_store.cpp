#include "common/store/record_store.hpp"

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "common/log.hpp"
#include "common/test_fault.hpp"
#include "common/store/record_json.hpp"
#include "common/unique_fd.hpp"
#include "common/utc_time.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace anycast::common {

namespace {

[[noreturn]] void fail(const std::string& context, int err = errno) {
    throw StoreError(fmt::format("{}: {}", context, std::strerror(err)));
}

constexpr std::string_view k_suffix = RecordStore::k_file_suffix;

// One part of a record's file name, escaped so that the name is injective: '_' separates the
// parts, so it is escaped inside them, and so are '%' (the escape), '/', control bytes and a
// leading '.' (which would hide the file). Names of the usual kind ([A-Za-z0-9.-]) stay as they are.
void append_name_part(std::string& name, std::string_view part) {
    for (std::size_t i = 0; i < part.size(); ++i) {
        const auto byte = static_cast<unsigned char>(part[i]);
        if (byte == '_' || byte == '%' || byte == '/' || byte < 0x20 || byte == 0x7f || (byte == '.' && i == 0)) {
            fmt::format_to(std::back_inserter(name), "%{:02X}", byte);
        } else {
            name += part[i];
        }
    }
}

// mkdir with mode 0700: nullopt when it made the directory, else what is at `path` (lstat,
// not following a symlink, unless `follow`).
std::optional<struct stat> make_or_stat(const std::string& path, bool follow) {
    if (::mkdir(path.c_str(), 0700) == 0) return std::nullopt;
    if (errno != EEXIST) fail("create directory " + path);
    struct stat st {};
    if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) fail("stat " + path);
    return st;
}

// An existing directory is fine, anything else there is an error. For the parents of the
// state directory, which may be symlinks (/var/lib on some systems).
void make_dir(const std::string& path) {
    const auto st = make_or_stat(path, true);
    if (st && !S_ISDIR(st->st_mode)) fail("create directory " + path, ENOTDIR);
}

// The state directory and its sub-directories: made 0700, or, when they exist, accepted only
// as a real directory (not a symlink, which could point the store anywhere) of our own user
// that no group or other user may write to (else they could plant or swap records).
void make_private_dir(const std::string& path) {
    const auto st = make_or_stat(path, false);
    if (!st) return;
    if (S_ISLNK(st->st_mode))
        throw StoreError(fmt::format("{}: is a symlink; the state directory must be a real one", path));
    if (!S_ISDIR(st->st_mode)) fail("create directory " + path, ENOTDIR);
    if (st->st_uid != ::geteuid()) {
        throw StoreError(fmt::format("{}: owned by uid {}, not by uid {} (this process); refusing it", path, st->st_uid,
                                     ::geteuid()));
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw StoreError(fmt::format("{}: mode {:04o} lets its group or others write; refusing it (chmod go-w)", path,
                                     st->st_mode & 07777));
    }
}

// The store's callers handle StoreError (the CNI answers code 103).
void fsync_dir(const std::string& path) {
    try {
        fsync_directory(path);
    } catch (const SystemError& e) {
        throw StoreError(e.what());
    }
}

std::int64_t nanoseconds(const struct timespec& ts) {
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

RecordStore::FileStamp stamp_from(const struct stat& st) {
    return {st.st_ino, st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
}

struct FileText {
    std::string text;
    RecordStore::FileStamp stamp;
};

// A regular file's contents (`name` relative to `dir_fd`; `path` for errors) and the stamp
// of what was read; nullopt when it does not exist or is something else (a symlink is never
// followed). One openat, fstat, read and close in the usual case (no fstat with
// `size_only`): serve reads 10 000 of these at start.
std::optional<FileText> read_regular_file(int dir_fd, const std::string& name, const std::string& path,
                                          RecordStore::Stamp stamp) {
    // O_NOATIME: a record is usually read right after it was written, which under relatime
    // would update (and journal) its access time: a write per read for serve's 10 000 at
    // start. Only the file's owner (or CAP_FOWNER) may ask for it.
    constexpr int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
    UniqueFd fd(::openat(dir_fd, name.c_str(), flags | O_NOATIME));
    if (!fd && errno == EPERM) fd = UniqueFd(::openat(dir_fd, name.c_str(), flags));
    if (!fd) {
        if (errno == ENOENT || errno == ELOOP) return std::nullopt;
        fail("open " + path);
    }
    FileText file;
    // Unstatted, the first read goes to the stack (a record is a few hundred bytes): the
    // text is then allocated at its size, not zero-filled at a guess.
    char first[4096];
    char* buffer = first;
    std::size_t capacity = sizeof first;
    if (stamp == RecordStore::Stamp::full) {
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) fail("stat " + path);
        if (!S_ISREG(st.st_mode)) return std::nullopt;
        file.stamp = stamp_from(st);
        file.text.resize(static_cast<std::size_t>(st.st_size) + 1);
        buffer = file.text.data();
        capacity = file.text.size();
    }
    std::size_t used = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer + used, capacity - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            // Unstatted, a directory or FIFO shows itself here.
            if (stamp == RecordStore::Stamp::size_only && (errno == EISDIR || errno == EAGAIN)) return std::nullopt;
            fail("read " + path);
        }
        used += static_cast<std::size_t>(n);
        // A regular file reads short only at its end; a full buffer means there is more
        // (or, statted, that it grew since fstat).
        if (used < capacity) break;
        if (buffer == first) file.text.assign(first, used);
        file.text.resize(capacity * 2);
        buffer = file.text.data();
        capacity = file.text.size();
    }
    if (buffer == first) {
        file.text.assign(first, used);
    } else {
        file.text.resize(used);
    }
    if (stamp == RecordStore::Stamp::size_only) file.stamp.size = static_cast<off_t>(used);
    return file;
}

enum class Parsed { ok, corrupt, too_new };

Parsed parse_text(const std::string& text, const std::string& path, Record& out, std::string& problem) {
    try {
        out = parse_record(text, path);
        return Parsed::ok;
    } catch (const NewerRecordError& e) {
        problem = e.what();
        return Parsed::too_new;
    } catch (const JsonError& e) {
        problem = e.what();
        return Parsed::corrupt;
    }
}

bool holds_attachment(const Record& record, std::string_view network, std::string_view container_id,
                      std::string_view ifname) {
    return record.network == network && record.container_id == container_id && record.ifname == ifname;
}

}  // namespace

CorruptRecordError::CorruptRecordError(std::string path, const std::string& problem)
    : StoreError(fmt::format("record {} is corrupt: {}", path, problem)), path_(std::move(path)) {}

RecordTooNewError::RecordTooNewError(std::string path, const std::string& problem)
    : StoreError(fmt::format("record {} cannot be read by this build: {}", path, problem)), path_(std::move(path)) {}

StoreLock::StoreLock(RecordStore& store) : store_(store) { store_.acquire(); }
StoreLock::~StoreLock() { store_.release(); }

RecordStore::RecordStore(std::string state_dir) : state_dir_(std::move(state_dir)) {
    while (state_dir_.size() > 1 && state_dir_.back() == '/') state_dir_.pop_back();
}

RecordStore::~RecordStore() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    if (records_fd_ >= 0) ::close(records_fd_);
}

std::string RecordStore::records_dir() const { return state_dir_ + "/records"; }
std::string RecordStore::quarantine_dir() const { return state_dir_ + "/quarantine"; }
std::string RecordStore::tmp_dir() const { return state_dir_ + "/tmp"; }
std::string RecordStore::lock_path() const { return state_dir_ + "/lock"; }

std::string RecordStore::stem(std::string_view network, std::string_view container_id, std::string_view ifname) {
    std::string name;
    name.reserve(network.size() + container_id.size() + ifname.size() + 2);
    append_name_part(name, network);
    name += '_';
    append_name_part(name, container_id);
    name += '_';
    append_name_part(name, ifname);
    return name;
}

std::string RecordStore::file_name(std::string_view network, std::string_view container_id, std::string_view ifname) {
    for (const auto& [what, part] :
         {std::pair{"network", network}, {"containerID", container_id}, {"ifname", ifname}}) {
        if (part.empty()) throw StoreError(fmt::format("record name: {} is empty", what));
    }
    std::string name = stem(network, container_id, ifname);
    name += k_suffix;
    // NAME_MAX, minus room for the temp and quarantine suffixes.
    if (name.size() > 200) throw StoreError(fmt::format("record name: \"{}\" is too long for a file name", name));
    return name;
}

std::string RecordStore::record_path(std::string_view network, std::string_view container_id,
                                     std::string_view ifname) const {
    return records_dir() + "/" + file_name(network, container_id, ifname);
}

void RecordStore::ensure_dirs() {
    if (dirs_ready_) return;
    if (state_dir_.empty()) throw StoreError("state directory: empty path");
    if (state_dir_.front() != '/') {
        throw StoreError(fmt::format("state directory \"{}\": not an absolute path", state_dir_));
    }
    // Parents of the state dir first (like mkdir -p), then our own layout, all 0700.
    for (std::size_t slash = state_dir_.find('/', 1); slash != std::string::npos;
         slash = state_dir_.find('/', slash + 1)) {
        make_dir(state_dir_.substr(0, slash));
    }
    make_private_dir(state_dir_);
    make_private_dir(records_dir());
    make_private_dir(quarantine_dir());
    make_private_dir(tmp_dir());
    dirs_ready_ = true;
}

void RecordStore::acquire() {
    if (lock_depth_ > 0) {
        ++lock_depth_;
        return;
    }
    ensure_dirs();
    const std::string path = lock_path();
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) fail("open lock " + path);
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) fail("flock " + path);
    }
    lock_fd_ = fd.release();
    lock_depth_ = 1;
}

void RecordStore::release() {
    if (--lock_depth_ > 0) return;
    // Closing the descriptor drops the flock.
    ::close(lock_fd_);
    lock_fd_ = -1;
}

void RecordStore::clean_temp_files() {
    // Called under the lock: every writer writes its temp file under the lock, so anything
    // left in tmp/ belongs to a writer that died before its rename.
    const std::string dir_path = tmp_dir();
    DIR* dir = ::opendir(dir_path.c_str());
    if (!dir) fail("open directory " + dir_path);
    std::vector<std::string> leftovers;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") leftovers.emplace_back(name);
    }
    ::closedir(dir);
    for (const auto& name : leftovers) {
        const std::string path = dir_path + "/" + name;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove leftover temp file " + path);
        log::warn("removed a temp file left by an interrupted write", {log::kv("path", path)});
    }
}

std::optional<Record> RecordStore::get(std::string_view network, std::string_view container_id,
                                       std::string_view ifname) {
    const std::string name = file_name(network, container_id, ifname);
    const std::string path = records_dir() + "/" + name;
    auto file = read_regular_file(AT_FDCWD, path, path, Stamp::full);
    if (!file) return read_legacy(network, container_id, ifname);
    Record record;
    std::string problem;
    switch (parse_text(file->text, path, record, problem)) {
        case Parsed::ok: break;
        case Parsed::corrupt: throw CorruptRecordError(path, problem);
        case Parsed::too_new: throw RecordTooNewError(path, problem);
    }
    if (!holds_attachment(record, network, container_id, ifname)) {
        throw CorruptRecordError(
            path, fmt::format("it holds attachment {}/{}/{}", record.network, record.container_id, record.ifname));
    }
    return record;
}

std::optional<std::string> RecordStore::legacy_file_name(std::string_view network, std::string_view container_id,
                                                         std::string_view ifname) {
    std::string legacy = fmt::format("{}_{}_{}{}", network, container_id, ifname, k_suffix);
    // Names that were refused then, or that the escaping leaves unchanged, have no legacy form.
    if (legacy.find_first_of(std::string_view("/\0", 2)) != std::string::npos || legacy.size() > 200 ||
        legacy == file_name(network, container_id, ifname)) {
        return std::nullopt;
    }
    return legacy;
}

// A record under its unescaped name counts only when it holds this very attachment: under
// that scheme another attachment may own the name, and its record is none of our business.
std::optional<Record> RecordStore::read_legacy(std::string_view network, std::string_view container_id,
                                               std::string_view ifname) {
    const auto legacy = legacy_file_name(network, container_id, ifname);
    if (!legacy) return std::nullopt;
    const std::string path = records_dir() + "/" + *legacy;
    const auto file = read_regular_file(AT_FDCWD, path, path, Stamp::full);
    if (!file) return std::nullopt;
    Record record;
    std::string problem;
    if (parse_text(file->text, path, record, problem) != Parsed::ok ||
        !holds_attachment(record, network, container_id, ifname)) {
        return std::nullopt;
    }
    return record;
}

bool RecordStore::remove_legacy(std::string_view network, std::string_view container_id, std::string_view ifname) {
    if (!read_legacy(network, container_id, ifname)) return false;
    const std::string path = records_dir() + "/" + *legacy_file_name(network, container_id, ifname);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove " + path);
    fsync_dir(records_dir());  // else a crash could bring back the old copy beside the new one
    log::info("removed a record under its pre-escaping name", {log::kv("record", path)});
    return true;
}

void RecordStore::put(const Record& record) {
    const std::string name = file_name(record.network, record.container_id, record.ifname);
    const std::string text = serialize_record(record) + "\n";
    StoreLock lock(*this);
    clean_temp_files();
    AtomicWriteOptions write;
    write.temp_path = fmt::format("{}/{}.{}", tmp_dir(), name, ::getpid());
    write.sync_directory = true;
    // The crash tests kill the writer between the temp file's fsync and the rename.
    write.before_rename = [] { fault_point("store-before-rename"); };
    try {
        write_file_atomically(records_dir() + "/" + name, text, write);
    } catch (const SystemError& e) {
        throw StoreError(e.what());
    }
    // The record now lives under its escaped name; a copy under the old one would be read twice.
    remove_legacy(record.network, record.container_id, record.ifname);
}

bool RecordStore::remove(std::string_view network, std::string_view container_id, std::string_view ifname) {
    const std::string path = record_path(network, container_id, ifname);
    StoreLock lock(*this);
    if (::unlink(path.c_str()) != 0) {
        if (errno != ENOENT) fail("remove " + path);
        return remove_legacy(network, container_id, ifname);
    }
    fsync_dir(records_dir());
    return true;
}

bool RecordStore::remove_named_if(const std::string& file_name, const std::function<bool(const Record&)>& condition) {
    const int dir_fd = records_dir_fd();
    if (dir_fd < 0) return false;
    StoreLock lock(*this);
    const std::string path = records_dir() + "/" + file_name;
    const auto file = read_regular_file(dir_fd, file_name, path, Stamp::full);
    if (!file) return false;
    Record record;
    std::string problem;
    if (parse_text(file->text, path, record, problem) != Parsed::ok || !condition(record)) return false;
    if (::unlinkat(dir_fd, file_name.c_str(), 0) != 0) {
        if (errno == ENOENT) return false;
        fail("remove " + path);
    }
    fsync_dir(records_dir());
    return true;
}

void RecordStore::quarantine_file(const std::string& name, const std::string& problem) {
    const std::string from = records_dir() + "/" + name;
    const std::string to = fmt::format("{}/{}.{}.{}", quarantine_dir(), name, utc_now(k_compact_utc), ::getpid());
    if (::rename(from.c_str(), to.c_str()) != 0) {
        if (errno == ENOENT) return;
        fail(fmt::format("move corrupt record {} to {}", from, to));
    }
    fsync_dir(records_dir());
    fsync_dir(quarantine_dir());
    log::warn("moved a corrupt record to quarantine",
              {log::kv("record", from), log::kv("movedTo", to), log::kv("problem", problem)});
}

bool RecordStore::quarantine(std::string_view network, std::string_view container_id, std::string_view ifname) {
    const std::string name = file_name(network, container_id, ifname);
    StoreLock lock(*this);
    struct stat st {};
    if (::lstat((records_dir() + "/" + name).c_str(), &st) != 0) return false;
    quarantine_file(name, "quarantined on request");
    return true;
}

bool RecordStore::is_record_file_name(std::string_view name) {
    return name.size() > k_suffix.size() && name.front() != '.' && name.ends_with(k_suffix);
}

int RecordStore::records_dir_fd() {
    if (records_fd_ < 0) {
        records_fd_ = ::open(records_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (records_fd_ < 0 && errno != ENOENT) fail("open directory " + records_dir());
    }
    return records_fd_;
}

std::vector<std::string> RecordStore::file_names() {
    const int dir_fd = records_dir_fd();
    if (dir_fd < 0) return {};
    DIR* dir = ::fdopendir(::dup(dir_fd));
    if (!dir) fail("read directory " + records_dir());
    ::rewinddir(dir);  // the duplicate shares the offset of earlier scans
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
        if (is_record_file_name(entry->d_name)) names.emplace_back(entry->d_name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<RecordStore::FileStamp> RecordStore::stamp_of(const std::string& file_name) {
    const int dir_fd = records_dir_fd();
    if (dir_fd < 0) return std::nullopt;
    struct stat st {};
    if (::fstatat(dir_fd, file_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return std::nullopt;
        fail(fmt::format("stat {}/{}", records_dir(), file_name));
    }
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return stamp_from(st);
}

std::optional<RecordStore::ReadRecord> RecordStore::read_named_concurrently(const std::string& file_name, bool& corrupt,
                                                                            Stamp stamp) {
    corrupt = false;
    const int dir_fd = records_fd_;
    if (dir_fd < 0) return std::nullopt;
    const std::string path = records_dir() + "/" + file_name;
    auto file = read_regular_file(dir_fd, file_name, path, stamp);
    if (!file) return std::nullopt;
    ReadRecord out;
    out.stamp = file->stamp;
    std::string problem;
    if (parse_text(file->text, path, out.record, problem) == Parsed::ok) return out;
    corrupt = true;
    return std::nullopt;
}

std::optional<RecordStore::ReadRecord> RecordStore::read_named(const std::string& file_name) {
    const int dir_fd = records_dir_fd();
    if (dir_fd < 0) return std::nullopt;
    bool corrupt = false;
    if (auto read = read_named_concurrently(file_name, corrupt); read || !corrupt) return read;

    // Re-check under the lock: a writer may have replaced the file since we read it.
    const std::string path = records_dir() + "/" + file_name;
    ReadRecord out;
    std::string problem;
    StoreLock lock(*this);
    auto file = read_regular_file(dir_fd, file_name, path, Stamp::full);
    if (!file) return std::nullopt;
    out.stamp = file->stamp;
    switch (parse_text(file->text, path, out.record, problem)) {
        case Parsed::ok: return out;
        case Parsed::corrupt: quarantine_file(file_name, problem); break;
        case Parsed::too_new:
            // A downgrade: the newer build that wrote it can still read it after the upgrade back.
            log::warn("skipping a record this build cannot read",
                      {log::kv("record", path), log::kv("problem", problem)});
            break;
    }
    return std::nullopt;
}

std::vector<Record> RecordStore::list() {
    std::vector<Record> records;
    for (const auto& name : file_names()) {
        if (auto read = read_named(name)) records.push_back(std::move(read->record));
    }
    return records;
}

void RecordStore::check_usable() {
    StoreLock lock(*this);
    const std::string probe = fmt::format("{}/.probe.{}", tmp_dir(), ::getpid());
    UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) fail("create " + probe);
    fd.reset();
    if (::unlink(probe.c_str()) != 0) fail("remove " + probe);
    if (::access(records_dir().c_str(), R_OK | W_OK | X_OK) != 0) fail("access " + records_dir());
}

}  // namespace anycast::common
