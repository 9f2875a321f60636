// Faults of the CNI plugin (issue 15 item B.3), run as a runtime runs it (test/support/cni_runtime.hpp):
// a full state directory, and the pod's network namespace vanishing before or during ADD. Each
// failure must be one clear CNI error with the right code and leave nothing behind: no record,
// no temp file, no anycast address on the pod's lo.
#include "test/support/background_process.hpp"
#include "test/support/cni_runtime.hpp"
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"
#include "test/support/test_apiserver.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
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

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
}

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

// A TCP relay on 127.0.0.1 that calls `on_connect` when a client connects, before it opens
// the connection to `upstream`: a seam between the plugin's one apiserver GET (which comes
// after its CNI_NETNS check and before it touches the pod) and the answer.
class InterposingRelay {
public:
    InterposingRelay(unsigned short upstream, std::function<void()> on_connect)
        : upstream_(upstream), on_connect_(std::move(on_connect)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 4) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            throw std::runtime_error(std::string("relay listen: ") + std::strerror(errno));
        }
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~InterposingRelay() {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }
    unsigned short port() const { return port_; }
    int connections() const { return connections_; }

private:
    void run() {
        while (!stop_) {
            pollfd wait{listener_, POLLIN, 0};
            if (::poll(&wait, 1, 100) <= 0) continue;
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            ++connections_;
            on_connect_();
            relay(client);
            ::close(client);
        }
    }
    void relay(int client) {
        const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(upstream_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
            pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
            char buffer[16384];
            bool open = true;
            while (open && !stop_) {
                if (::poll(fds, 2, 100) <= 0) continue;
                for (int i = 0; i < 2 && open; ++i) {
                    if (fds[i].revents == 0) continue;
                    const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                    open = n > 0 && ::write(fds[1 - i].fd, buffer, static_cast<std::size_t>(n)) == n;
                }
            }
        }
        ::close(server);
    }

    unsigned short upstream_;
    std::function<void()> on_connect_;
    int listener_ = -1;
    unsigned short port_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
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
    TestApiserver server;
    NamedNetns pod("pod");
    TempDir dir("vanish");
    // The pod's IP is reached through a veth pair whose both ends stay in the node (no dummy
    // module here), so the next-hop lookup does not depend on the pod's namespace: the netns
    // is the only thing that vanishes.
    const std::string host_iface = unique_name("vh");
    make_veth(host_iface, unique_name("vp"));
    sh("ip addr add 10.0.0.1/24 dev " + host_iface);
    server.put_pod(make_pod("dns", "resolver", "worker-1", true, "10.255.53.53"));

    // The plugin's GET of the pod's annotation comes after its CNI_NETNS check and before it
    // opens the netns to change lo: the relay deletes the netns right then.
    InterposingRelay relay(server.port(), [&] { pod.remove(); });
    std::string kubeconfig = read_text(server.write_kubeconfig(dir.file("kubeconfig.real")));
    const std::string real = "127.0.0.1:" + std::to_string(server.port());
    kubeconfig.replace(kubeconfig.find(real), real.size(), "127.0.0.1:" + std::to_string(relay.port()));
    dir.write("kubeconfig", kubeconfig);

    const json::object prev{{"cniVersion", "1.0.0"},
                            {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", pod.path()}}}},
                            {"ips", json::array{json::object{{"address", "10.0.0.12/24"}, {"interface", 0}}}}};
    const json::object config{{"cniVersion", "1.0.0"},
                              {"name", "k8s-pod-network"},
                              {"type", "flock-anycast"},
                              {"stateDir", dir.file("state")},
                              {"kubeconfig", dir.file("kubeconfig")},
                              {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16"}}}},
                              {"prevResult", prev}};
    const CniCall call{.command = "ADD",
                       .container_id = "vanish-1",
                       .netns = pod.path(),
                       .cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=resolver",
                       .extra_env = {}};
    const auto out = run_cni(flock_binary(), call, json::serialize(config));
    INFO(out.out << out.err);
    REQUIRE(relay.connections() == 1);
    CHECK_FALSE(fs::exists(pod.path()));
    CHECK(out.exit_code == 1);
    CHECK(error_code(out) == 4);
    const std::string msg = error_msg(out);
    CHECK(msg.find("CNI_NETNS: " + pod.path()) == 0);
    CHECK(msg.find("vanished") != std::string::npos);
    CHECK(file_count(dir.file("state/records")) == 0);
    CHECK(file_count(dir.file("state/tmp")) == 0);
}
