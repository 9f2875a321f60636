#include "reconciler/serve/instance_lock.hpp"

#include "common/error.hpp"
#include "common/store/record_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace anycast::reconciler {

namespace {

// The pid the holder wrote, for the message; "unknown" when it cannot be read.
std::string holder_pid(int fd) {
    char text[32] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) return "unknown";
    std::string_view pid(text, static_cast<std::size_t>(n));
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.remove_suffix(1);
    return pid.empty() ? "unknown" : std::string(pid);
}

}  // namespace

InstanceLock::InstanceLock(const std::string& state_dir) {
    // Makes the state directory as the store lays it out, or vets the one that is there.
    common::RecordStore(state_dir).check_usable();
    const std::string path = path_in(state_dir);
    fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd_) common::throw_errno("open {}", path);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) common::throw_errno("lock {}", path);
        throw InstanceLockError(fmt::format("another flock-anycast serve (pid {}) holds {}: one serve per node",
                                            holder_pid(fd_.get()), path));
    }
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd_.get(), 0) != 0 || ::pwrite(fd_.get(), pid.data(), pid.size(), 0) < 0) {
        common::throw_errno("write the pid into {}", path);
    }
}

}  // namespace anycast::reconciler
