#include "test/support/netns.hpp"

#include "test/support/process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace anycast::test {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

}  // namespace

PrivateNetns::PrivateNetns() {
    original_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_fd_ < 0) fail("open /proc/thread-self/ns/net");
    if (::unshare(CLONE_NEWNET) != 0) {
        ::close(original_fd_);
        fail("unshare(CLONE_NEWNET)");
    }
    sh("ip link set lo up");
}

PrivateNetns::~PrivateNetns() {
    if (::setns(original_fd_, CLONE_NEWNET) != 0) {
        // Staying in the test namespace would leak it into the next test: stop here.
        std::perror("PrivateNetns: setns back to the original namespace");
        std::abort();
    }
    ::close(original_fd_);
}

EnteredNetns::EnteredNetns(const std::string& path) {
    original_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_fd_ < 0) fail("open /proc/thread-self/ns/net");
    const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    const int error = errno;
    if (target >= 0) ::close(target);
    if (!entered) {
        ::close(original_fd_);
        errno = error;
        fail("enter network namespace " + path);
    }
}

EnteredNetns::~EnteredNetns() {
    if (::setns(original_fd_, CLONE_NEWNET) != 0) {
        std::perror("EnteredNetns: setns back to the original namespace");
        std::abort();
    }
    ::close(original_fd_);
}

std::string unique_name(const std::string& tag) {
    static std::atomic<int> counter{0};
    std::string name = "flkt" + std::to_string(::getpid() % 100000) + tag.substr(0, 2) + std::to_string(counter++);
    return name.substr(0, 15);
}

NamedNetns::NamedNetns(const std::string& tag) : name_(unique_name(tag)) {
    sh("ip netns add " + name_);
    try {
        exec("ip link set lo up");
    } catch (...) {
        sh_result("ip netns del " + name_);
        throw;
    }
}

NamedNetns::~NamedNetns() {
    if (alive_) sh_result("ip netns del " + name_);
}

std::string NamedNetns::exec(const std::string& command) const {
    auto result = run_process({"ip", "netns", "exec", name_, "sh", "-c", command});
    if (result.exit_code != 0) {
        throw std::runtime_error("in netns " + name_ + ": command failed (" + std::to_string(result.exit_code) +
                                 "): " + command + "\n" + result.out + result.err);
    }
    return result.out;
}

void NamedNetns::remove() {
    if (alive_) sh("ip netns del " + name_);
    alive_ = false;
}

void make_veth(const std::string& host_end, const std::string& peer_end, const std::string& peer_ns) {
    sh("ip link add " + host_end + " type veth peer name " + peer_end);
    sh("ip link set " + host_end + " up");
    if (peer_ns.empty()) {
        sh("ip link set " + peer_end + " up");
    } else {
        sh("ip link set " + peer_end + " netns " + peer_ns);
        sh("ip -n " + peer_ns + " link set " + peer_end + " up");
    }
}

}  // namespace anycast::test
