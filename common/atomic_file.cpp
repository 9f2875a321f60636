#include "common/atomic_file.hpp"

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace anycast::common {

namespace {

// Removes the temp file unless it was renamed into place.
class TempPath {
public:
    explicit TempPath(std::string path) : path_(std::move(path)) {}
    ~TempPath() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    void release() { path_.clear(); }

private:
    std::string path_;
};

void write_all(int fd, std::string_view text, const std::string& path) {
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("write {}", path);
        }
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace

void write_file_atomically(const std::string& target, std::string_view text, const AtomicWriteOptions& options) {
    std::string temp = options.temp_path;
    UniqueFd fd;
    if (temp.empty()) {
        temp = target + ".tmp.XXXXXX";
        fd.reset(::mkostemp(temp.data(), O_CLOEXEC));
        if (!fd) throw_errno("create temp file {}", temp);
        // mkostemp creates 0600 whatever the umask.
        if (options.mode != 0600 && ::fchmod(fd.get(), options.mode) != 0) throw_errno("chmod {}", temp);
    } else {
        fd.reset(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, options.mode));
        if (!fd) throw_errno("create temp file {}", temp);
    }
    TempPath cleanup(temp);
    write_all(fd.get(), text, temp);
    if (::fsync(fd.get()) != 0) throw_errno("fsync {}", temp);
    // close(2) reports deferred write errors (NFS).
    if (fd.close() != 0) throw_errno("close {}", temp);
    if (options.before_rename) options.before_rename();
    if (::rename(temp.c_str(), target.c_str()) != 0) throw_errno("rename {} to {}", temp, target);
    cleanup.release();
    if (options.sync_directory) {
        const auto dir = std::filesystem::path(target).parent_path();
        fsync_directory(dir.empty() ? "." : dir.string());
    }
}

void fsync_directory(const std::string& path) {
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_errno("open directory {}", path);
    if (::fsync(dir.get()) != 0) throw_errno("fsync directory {}", path);
}

}  // namespace anycast::common
