#include "reconciler/bird/bird_fragment_file.hpp"

#include "common/error.hpp"
#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace anycast::reconciler {

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

bool holds_text(const std::string& path, const std::string& text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream current;
    current << in.rdbuf();
    return current.str() == text;
}

}  // namespace

bool write_file_if_changed(const std::string& path, const std::string& text) {
    if (holds_text(path, text)) return false;

    std::string temp = path + ".tmp.XXXXXX";
    common::UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) common::throw_errno("create temp file {}", temp);
    TempPath cleanup(temp);
    if (::fchmod(fd.get(), 0644) != 0) common::throw_errno("chmod {}", temp);
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            common::throw_errno("write {}", temp);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) common::throw_errno("fsync {}", temp);
    // close(2) reports deferred write errors (NFS).
    if (fd.close() != 0) common::throw_errno("close {}", temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) common::throw_errno("rename {} to {}", temp, path);
    cleanup.release();
    return true;
}

}  // namespace anycast::reconciler
