// Faults of the CNI plugin (issue 15 item B.3), run as a runtime runs it (test/support/cni_runtime.hpp):
// a full state directory, and the pod's network namespace vanishing before or during ADD. Each
// failure must be one clear CNI error with the right code and leave nothing behind: no record,
// no temp file, no anycast address on the pod's lo.
#include "test/support/background_process.hpp"
#include "test/support/cni_runtime.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

using namespace anycast::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const json::object k_anycast_ips = {
    {"runtimeConfig", json::object{{"anycastIPs", json::array{"10.255.53.53", "fd00:255::53"}}}}};
const std::string k_dns_pod = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns";

int error_code(const ProcessResult& result) { return static_cast<int>(json_out(result).at("code").as_int64()); }
std::string error_msg(const ProcessResult& result) { return std::string(json_out(result).at("msg").as_string()); }

std::size_t file_count(const std::string& dir) {
    const std::string listing = list_dir(dir);
    return static_cast<std::size_t>(std::count(listing.begin(), listing.end(), '\n'));
}

// A tmpfs of `size` mounted on `mountpoint` in a mount namespace of its own, held by a helper
// process (`unshare --mount --propagation private`, so nothing propagates back to the host):
// the test's own mount namespace is never changed. The plugin runs inside it through a
// wrapper (`nsenter --mount`); the test reads and changes the tmpfs through
// /proc/<helper>/root. The mount goes with the helper.
class PrivateTmpfs {
public:
    PrivateTmpfs(const TempDir& dir, const std::string& mountpoint, const std::string& size) : mountpoint_(mountpoint) {
        fs::create_directories(mountpoint);
        const std::string ready = dir.file("tmpfs-mounted");
        helper_ = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                     "mount -t tmpfs -o size=" + size + ",mode=0700 flock-full " + mountpoint +
                                         " && touch " + ready + " && exec sleep 600"},
            dir.file("tmpfs-helper.log"));
        if (!wait_until([&] { return fs::exists(ready); })) {
            throw std::runtime_error("tmpfs helper never mounted " + mountpoint);
        }
        plugin_ = dir.write("flock-in-mountns", "#!/bin/sh\nexec nsenter --target " + std::to_string(helper_->pid()) +
                                                    " --mount -- " + flock_binary() + " \"$@\"\n");
        fs::permissions(plugin_, fs::perms::owner_all);
    }

    // `path` (under the mountpoint) as the test sees it from outside the mount namespace.
    std::string outside(const std::string& path) const {
        return "/proc/" + std::to_string(helper_->pid()) + "/root" + path;
    }
    // The flock-anycast binary, run inside the mount namespace.
    const std::string& plugin() const { return plugin_; }
    // Fills the tmpfs up: a file written until ENOSPC.
    void fill(const std::string& name) const {
        std::ofstream out(outside(mountpoint_ + "/" + name), std::ios::binary);
        const std::string block(4096, 'x');
        while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {}
    }
    unsigned long free_bytes() const {
        struct statvfs st {};
        if (::statvfs(outside(mountpoint_).c_str(), &st) != 0) throw std::runtime_error("statvfs " + mountpoint_);
        return st.f_bavail * st.f_frsize;
    }

private:
    std::string mountpoint_;
    std::unique_ptr<BackgroundProcess> helper_;
    std::string plugin_;
};

// serve's side of the pod lookup, played by the test (common/pod_lookup_protocol.hpp): a
// listener on <stateDir>/serve.sock that calls `on_request` when the plugin's request has
// arrived, then answers `answer`. The lookup comes after the plugin's CNI_NETNS check and
// before it touches the pod: the seam for a netns vanishing mid-ADD.
class FakeServe {
public:
    FakeServe(const std::string& path, std::string answer, std::function<void()> on_request)
        : path_(path), answer_(std::move(answer)), on_request_(std::move(on_request)) {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 4) != 0) {
            throw std::runtime_error("fake serve.sock " + path + ": " + std::strerror(errno));
        }
        thread_ = std::thread([this] { run(); });
    }
    ~FakeServe() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
        ::unlink(path_.c_str());
    }
    int requests() const { return requests_; }

private:
    void run() {
        while (!stop_) {
            pollfd wait{listener_, POLLIN, 0};
            if (::poll(&wait, 1, 100) <= 0) continue;
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            std::string request;
            char buffer[4096];
            while (request.find('\n') == std::string::npos) {
                const ssize_t n = ::read(client, buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<std::size_t>(n));
            }
            ++requests_;
            on_request_();
            const std::string line = answer_ + "\n";
            if (::write(client, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
                std::fprintf(stderr, "fake serve: short write\n");
            }
            ::close(client);
        }
    }

    std::string path_;
    std::string answer_;
    std::function<void()> on_request_;
    int listener_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
};

}  // namespace

TEST_CASE("a full state dir: ADD fails with code 103 and leaves nothing; once space is freed ADD works",
          "[faults][cni][netns]") {
    PrivateNetns node;
    // Made before the tmpfs helper, whose private mount namespace copies their /run/netns mounts.
    NamedNetns first("pod"), second("pod");
    TempDir dir("full"), ipam("ipam");
    const std::string state = dir.file("state");
    PrivateTmpfs tmpfs(dir, state, "64k");
    Chain chain(MainPlugin::ptp, "1.1.0", state, ipam.path());
    const std::string records = tmpfs.outside(state + "/records");

    CniCall call{
        .command = "ADD", .container_id = "full-1", .netns = first.path(), .cni_args = k_dns_pod, .extra_env = {}};
    const json::value prev1 = chain.add_main(call);
    const auto ok = run_cni(tmpfs.plugin(), call, chain.flock_config(k_anycast_ips, &prev1));
    INFO(ok.out << ok.err);
    REQUIRE(ok.exit_code == 0);
    REQUIRE(file_count(records) == 1);
    CHECK_FALSE(fs::exists(state + "/records"));  // really on the private tmpfs, not in the test's view

    tmpfs.fill("filler");
    REQUIRE(tmpfs.free_bytes() == 0);

    CniCall second_call{
        .command = "ADD", .container_id = "full-2", .netns = second.path(), .cni_args = k_dns_pod, .extra_env = {}};
    const json::value prev2 = chain.add_main(second_call);
    const auto full = run_cni(tmpfs.plugin(), second_call, chain.flock_config(k_anycast_ips, &prev2));
    INFO(full.out << full.err);
    CHECK(full.exit_code == 1);
    CHECK(error_code(full) == 103);
    CHECK(error_msg(full).find("No space left on device") != std::string::npos);
    CHECK(error_msg(full).find(state) != std::string::npos);  // names the file it could not write
    // Nothing partial: the addresses added to lo were rolled back, no record, no temp file.
    CHECK(lo_addresses(second.name()).empty());
    CHECK(file_count(records) == 1);
    CHECK(list_dir(tmpfs.outside(state + "/tmp")).empty());
    CHECK(list_dir(tmpfs.outside(state + "/quarantine")).empty());
    // The first attachment is untouched.
    CHECK(lo_addresses(first.name()) == "10.255.53.53/32 fd00:255::53/128");

    // Space freed: the runtime's retry of the same ADD succeeds.
    fs::remove(tmpfs.outside(state + "/filler"));
    const auto again = run_cni(tmpfs.plugin(), second_call, chain.flock_config(k_anycast_ips, &prev2));
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK(file_count(records) == 2);
    CHECK(lo_addresses(second.name()) == "10.255.53.53/32 fd00:255::53/128");
    CHECK(list_dir(tmpfs.outside(state + "/tmp")).empty());
}

TEST_CASE("a pod netns deleted between the main plugin and ours: ADD fails with code 4 and leaves nothing",
          "[faults][cni][netns]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    CniCall call{
        .command = "ADD", .container_id = "gone-1", .netns = pod.path(), .cni_args = k_dns_pod, .extra_env = {}};
    const json::value prev = chain.add_main(call);
    pod.remove();

    const auto out = run_cni(flock_binary(), call, chain.flock_config(k_anycast_ips, &prev));
    INFO(out.out << out.err);
    CHECK(out.exit_code == 1);
    CHECK(error_code(out) == 4);
    CHECK(error_msg(out) == "CNI_NETNS: " + pod.path() + ": No such file or directory");
    CHECK(file_count(state.file("records")) == 0);
    CHECK(file_count(state.file("tmp")) == 0);

    // The runtime then tears the attachment down: DEL succeeds without the netns.
    call.command = "DEL";
    CHECK(run_cni(flock_binary(), call, chain.flock_config(k_anycast_ips)).exit_code == 0);
    CHECK(chain.del_main(call).exit_code == 0);
}

TEST_CASE("a pod netns vanishing during ADD, after the plugin checked it: code 4 naming the netns, nothing left",
          "[faults][cni][kube][netns]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir dir("vanish");
    // The pod's IP is reached through a veth pair whose both ends stay in the node (no dummy
    // module here), so the next-hop lookup does not depend on the pod's namespace: the netns
    // is the only thing that vanishes.
    const std::string host_iface = unique_name("vh");
    make_veth(host_iface, unique_name("vp"));
    sh("ip addr add 10.0.0.1/24 dev " + host_iface);
    fs::create_directories(dir.file("state"));
    FakeServe serve(dir.file("state/serve.sock"), R"({"ok":true,"value":"10.255.53.53","from":"cache"})",
                    [&] { pod.remove(); });

    const json::object prev{{"cniVersion", "1.0.0"},
                            {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", pod.path()}}}},
                            {"ips", json::array{json::object{{"address", "10.0.0.12/24"}, {"interface", 0}}}}};
    const json::object config{{"cniVersion", "1.0.0"},
                              {"name", "k8s-pod-network"},
                              {"type", "flock-anycast"},
                              {"stateDir", dir.file("state")},
                              {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16"}}}},
                              {"prevResult", prev}};
    const CniCall call{.command = "ADD",
                       .container_id = "vanish-1",
                       .netns = pod.path(),
                       .cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=resolver",
                       .extra_env = {}};
    const auto out = run_cni(flock_binary(), call, json::serialize(config));
    INFO(out.out << out.err);
    REQUIRE(serve.requests() == 1);
    CHECK_FALSE(fs::exists(pod.path()));
    CHECK(out.exit_code == 1);
    CHECK(error_code(out) == 4);
    const std::string msg = error_msg(out);
    CHECK(msg.find("CNI_NETNS: " + pod.path()) == 0);
    CHECK(msg.find("vanished") != std::string::npos);
    CHECK(file_count(dir.file("state/records")) == 0);
    CHECK(file_count(dir.file("state/tmp")) == 0);
}
