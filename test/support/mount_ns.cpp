#include "test/support/mount_ns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace anycast::test {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

}  // namespace

PrivateMountNs::PrivateMountNs() {
    original_fd_ = ::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (original_fd_ < 0) fail("open /proc/thread-self/ns/mnt");
    cwd_fd_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd_fd_ < 0) {
        ::close(original_fd_);
        fail("open the working directory");
    }
    if (::unshare(CLONE_NEWNS) != 0) {
        const int error = errno;
        ::close(original_fd_);
        ::close(cwd_fd_);
        errno = error;
        fail("unshare(CLONE_NEWNS)");
    }
    // The copy keeps the host's propagation: a shared / would carry our mounts back out.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        const int error = errno;
        leave();
        errno = error;
        fail("mount --make-rprivate / in the private mount namespace");
    }
}

PrivateMountNs::~PrivateMountNs() { leave(); }

void PrivateMountNs::leave() noexcept {
    // setns into a mount namespace resets the root and the working directory.
    if (::setns(original_fd_, CLONE_NEWNS) != 0 || ::fchdir(cwd_fd_) != 0) {
        // Staying in the test's namespace would leak its mounts into the next test: stop here.
        std::perror("PrivateMountNs: back to the original mount namespace");
        std::abort();
    }
    ::close(original_fd_);
    ::close(cwd_fd_);
    original_fd_ = cwd_fd_ = -1;
}

MountStack::~MountStack() {
    for (auto it = targets_.rbegin(); it != targets_.rend(); ++it) {
        if (::umount2(it->c_str(), MNT_DETACH) != 0) {
            std::fprintf(stderr, "MountStack: umount %s: %s\n", it->c_str(), std::strerror(errno));
        }
    }
}

void MountStack::tmpfs(const std::string& target) {
    if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
        fail("mount tmpfs on " + target);
    }
    targets_.push_back(target);
}

void MountStack::overlay(const std::string& target, const std::string& upper, const std::string& work) {
    std::filesystem::create_directories(upper);
    std::filesystem::create_directories(work);
    const std::string options = "lowerdir=" + target + ",upperdir=" + upper + ",workdir=" + work;
    if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
        fail("mount overlay on " + target + " (" + options + ")");
    }
    targets_.push_back(target);
}

void detach_mounts_under(const std::string& prefix) noexcept {
    std::vector<std::string> points;
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
        // "id parent major:minor root mount-point options ...": the fifth field.
        std::istringstream fields(line);
        std::string skip, point;
        fields >> skip >> skip >> skip >> skip >> point;
        if (point == prefix || point.starts_with(prefix + "/")) points.push_back(point);
    }
    std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& point : points) {
        if (::umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
            std::fprintf(stderr, "detach_mounts_under: umount %s: %s\n", point.c_str(), std::strerror(errno));
        }
    }
}

}  // namespace anycast::test
