// Debian's containerd for one test, sealed off from the host (docs/containerd.md): its root,
// state, socket and TMPDIR in a temp dir; the test process and everything it starts moved into
// a private mount namespace where /run is a fresh tmpfs (containerd's shim sockets and runc
// state, /run/containerd) and /etc, /opt and /var/lib are overlays writing into the temp dir
// (so /etc/cni/net.d, /opt/cni/bin and libcni's /var/lib/cni cache exist for ctr without
// existing on the host). Construct it after PrivateNetns: containerd, ctr and the CNI
// plugins then run in the test's network namespace, the node. A unique ctr namespace keeps
// its containers' cgroups apart; they are removed with it.
#pragma once

#include "test/support/background_process.hpp"
#include "test/support/mount_ns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace anycast::test {

class ContainerdLab {
public:
    // The image imported at start: write_busybox_oci_archive's busybox.
    static constexpr const char* k_image = "localhost/flock-busybox:1";
    static constexpr const char* k_cni_config_dir = "/etc/cni/net.d";
    static constexpr const char* k_cni_plugin_dir = "/opt/cni/bin";

    // What this machine lacks to run the lab ("" when nothing): containerd, ctr, runc, a busybox.
    static std::string missing();

    // Mounts, starts containerd (waits until it answers), imports the image, and links the
    // built flock-anycast into /opt/cni/bin (ctr also searches Debian's /usr/lib/cni). Throws
    // with containerd's log when it does not come up.
    ContainerdLab();
    // Removes every container started through the lab (kill, task rm, container rm), stops
    // containerd, kills any shim or container process left (found by the lab's socket path in
    // the shim's command line), removes the cgroups of the lab's ctr namespace, detaches the
    // mounts, removes the temp dir and leaves the mount namespace. Never throws.
    ~ContainerdLab();
    ContainerdLab(const ContainerdLab&) = delete;
    ContainerdLab& operator=(const ContainerdLab&) = delete;

    const TempDir& dir() const { return dir_; }
    // The ctr namespace: CNI_CONTAINERID is "<namespace>-<container>".
    const std::string& ctr_namespace() const { return namespace_; }

    // Writes a conflist into /etc/cni/net.d (the private one); returns its path.
    std::string write_conflist(const std::string& file_name, const std::string& text) const;

    // `ctr --address <socket> -n <namespace> args...`.
    ProcessResult ctr(const std::vector<std::string>& args, double timeout_seconds = 30) const;
    // The same; throws with ctr's output when it fails.
    std::string ctr_ok(const std::vector<std::string>& args, double timeout_seconds = 30) const;

    // `ctr run --cni --rm --null-io IMAGE id command...` in the background, as a user runs it in
    // the foreground: ctr waits for the task, and when it exits, calls CNI DEL and removes the
    // task and the container. Output (with the plugins' stderr) goes to <dir>/ctr-<id>.log.
    std::unique_ptr<BackgroundProcess> run_attached(const std::string& id, const std::vector<std::string>& command);
    // `ctr run --cni -d --null-io IMAGE id command...`: returns once the task runs.
    void run_detached(const std::string& id, const std::vector<std::string>& command);

    // The task's pid (in our pid namespace), or 0 when it has no running task.
    pid_t task_pid(const std::string& id) const;
    // `ctr task exec` of `sh -c command` in the container; throws with the output on failure.
    std::string exec(const std::string& id, const std::string& command);

    std::string containerd_log() const;

private:
    void remove_containers() noexcept;
    void kill_leftover_processes() const noexcept;
    void remove_cgroups() const noexcept;

    PrivateMountNs mount_ns_;  // first: everything below lives inside it, and goes before it
    TempDir dir_{"ctrd"};
    MountStack mounts_;
    std::string namespace_;
    std::string socket_;
    std::unique_ptr<BackgroundProcess> containerd_;
    std::vector<std::string> containers_;
    int exec_count_ = 0;
};

}  // namespace anycast::test
