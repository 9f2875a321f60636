#include "common/netlink/netns.hpp"

#include "common/error.hpp"
#include "common/log.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace anycast::common::netlink {

namespace {

// Owns an fd for the constructor's error paths.
class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

}  // namespace

NetnsGuard::NetnsGuard(const std::string& netns_path) {
    // Per thread: setns(2) moves only the calling thread.
    Descriptor original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (original.get() < 0) throw_errno("open /proc/thread-self/ns/net");
    Descriptor target(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (target.get() < 0) throw_errno("open netns {}", netns_path);
    if (::setns(target.get(), CLONE_NEWNET) != 0) throw_errno("setns {}", netns_path);
    original_fd_ = original.release();
}

NetnsGuard::~NetnsGuard() {
    if (::setns(original_fd_, CLONE_NEWNET) != 0) {
        // Carrying on would apply the caller's next changes to the wrong namespace.
        log::error("setns back to the original network namespace failed", {log::kv("error", std::strerror(errno))});
        std::abort();
    }
    ::close(original_fd_);
}

}  // namespace anycast::common::netlink
