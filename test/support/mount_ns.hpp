// A private mount namespace for one test: mounts made while it lives (a tmpfs over /run, an
// overlay over /etc) are seen by this process and the children it starts, never by the host.
// Paths that do not exist on the host can then be given to programs that insist on them
// (containerd's ctr reads /etc/cni/net.d and /opt/cni/bin, docs/containerd.md).
#pragma once

#include <string>
#include <vector>

namespace anycast::test {

// Moves the calling process into a new mount namespace (every mount private, so nothing
// propagates back) and, on destruction, back into the original one with its working directory
// restored. The process must be single-threaded (the kernel refuses a shared fs_struct).
// Children started meanwhile keep the private namespace for as long as they live.
class PrivateMountNs {
public:
    PrivateMountNs();
    ~PrivateMountNs();
    PrivateMountNs(const PrivateMountNs&) = delete;
    PrivateMountNs& operator=(const PrivateMountNs&) = delete;

private:
    void leave() noexcept;

    int original_fd_ = -1;
    int cwd_fd_ = -1;
};

// Mounts made inside a PrivateMountNs, detached (MNT_DETACH) in reverse order on destruction.
// Each mount throws std::runtime_error naming the mount and errno when it fails.
class MountStack {
public:
    MountStack() = default;
    ~MountStack();
    MountStack(const MountStack&) = delete;
    MountStack& operator=(const MountStack&) = delete;

    void tmpfs(const std::string& target);
    // A writable overlay over `target`: reads see `target`, writes land in `upper` (which, like
    // `work`, is created when missing and must be on a filesystem overlayfs accepts as upper).
    void overlay(const std::string& target, const std::string& upper, const std::string& work);

private:
    std::vector<std::string> targets_;
};

// Detaches every mount of this namespace whose mount point is `prefix` or below it, deepest
// first (what a killed process left mounted in a temp dir); failures are printed, not thrown.
void detach_mounts_under(const std::string& prefix) noexcept;

}  // namespace anycast::test
