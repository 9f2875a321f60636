#include "common/inotify_watch.hpp"

#include "common/error.hpp"
#include "common/log.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace anycast::common {

namespace {

int open_inotify(const std::string& directory, std::uint32_t mask) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw_errno("inotify_init1 for {}", directory);
    if (::inotify_add_watch(fd, directory.c_str(), mask | IN_ONLYDIR) < 0) {
        const int err = errno;
        ::close(fd);
        throw_errno_value(err, "inotify_add_watch " + directory);
    }
    return fd;
}

}  // namespace

InotifyWatch::InotifyWatch(boost::asio::io_context& io, const std::string& directory, std::uint32_t mask,
                           Handler handler)
    : directory_(directory), handler_(std::move(handler)), descriptor_(io, open_inotify(directory, mask)) {
    arm();
}

InotifyWatch::~InotifyWatch() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
}

void InotifyWatch::arm() {
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
        if (ec == boost::asio::error::operation_aborted) return;
        if (ec) {
            log::error("inotify wait failed", {log::kv("dir", directory_), log::kv("error", ec.message())});
            return;
        }
        drain();
        arm();
    });
}

void InotifyWatch::drain() {
    alignas(inotify_event) std::array<char, 16 * 1024> buffer;
    for (;;) {
        const ssize_t n = ::read(descriptor_.native_handle(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) {
                log::error("read inotify events", {log::kv("dir", directory_), log::kv("error", std::strerror(errno))});
            }
            return;
        }
        for (ssize_t offset = 0; offset < n;) {
            inotify_event event;
            std::memcpy(&event, buffer.data() + offset, sizeof(event));
            const char* name = buffer.data() + offset + sizeof(inotify_event);
            handler_(event.len > 0 ? std::string_view(name, ::strnlen(name, event.len)) : std::string_view{},
                     event.mask);
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
        }
    }
}

}  // namespace anycast::common
