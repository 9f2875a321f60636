#include "test/support/flow_lab.hpp"

#include "common/error.hpp"
#include "common/netlink/netns.hpp"
#include "test/support/process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace anycast::test {

namespace {

constexpr const char* k_client = "10.1.0.2";
constexpr const char* k_client_gateway = "10.1.0.1";
constexpr int k_reply_timeout_ms = 300;

sockaddr_in address_of(const std::string& ip, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) throw std::invalid_argument("not IPv4: " + ip);
    return address;
}

common::UniqueFd open_socket(int type) {
    common::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!fd) common::throw_errno("socket");
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    return fd;
}

void bind_to(int fd, const std::string& ip, std::uint16_t port) {
    const sockaddr_in address = address_of(ip, port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        common::throw_errno("bind {}:{}", ip, port);
    }
}

bool wait_readable(int fd, int timeout_ms) {
    pollfd entry{fd, POLLIN, 0};
    return ::poll(&entry, 1, timeout_ms) == 1;
}

std::string read_reply(int fd) {
    char buffer[64];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

FlowLab::FlowLab(std::string anycast_v4) : anycast_(std::move(anycast_v4)) {
    client_host_end_ = unique_name("c");
    make_veth(client_host_end_, "eth0", client_.name());
    // Forwarding, and flows hashed on ports too (else all 200 flows of one client go one way).
    sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 && ip addr add " +
       std::string(k_client_gateway) + "/24 dev " + client_host_end_);
    client_.exec("ip addr add " + std::string(k_client) + "/24 dev eth0 && ip route add default via " +
                 k_client_gateway);
    stop_ = common::UniqueFd(::eventfd(0, EFD_CLOEXEC));
    if (!stop_) common::throw_errno("eventfd");
    server_ = std::thread([this] { serve_loop(); });
}

FlowLab::~FlowLab() {
    const std::uint64_t one = 1;
    if (::write(stop_.get(), &one, sizeof one) < 0) std::abort();  // the thread would never end
    server_.join();
}

void FlowLab::add_pod(const std::string& name, const std::string& netns_name, const std::string& host_end) {
    // proxy_delay 0: a proxied answer to a broadcast request is otherwise delayed up to 0.8 s.
    sh("sysctl -qw net.ipv4.conf." + host_end + ".proxy_arp=1 net.ipv4.neigh." + host_end + ".proxy_delay=0");
    sh("ip netns exec " + netns_name + " sh -c 'ip addr add " + anycast_ +
       "/32 dev lo && ip route add default dev eth0'");
    common::UniqueFd udp, tcp;
    {
        // Sockets keep the namespace they were made in: serve them from this thread's loop.
        common::netlink::NetnsGuard inside("/run/netns/" + netns_name);
        udp = open_socket(SOCK_DGRAM);
        bind_to(udp.get(), anycast_, k_port);
        tcp = open_socket(SOCK_STREAM);
        bind_to(tcp.get(), anycast_, k_port);
        if (::listen(tcp.get(), 256) != 0) common::throw_errno("listen");
    }
    // The loop picks the new sockets up when woken (an even count; odd means stop).
    const std::uint64_t wake = 2;
    {
        const std::lock_guard lock(mutex_);
        listeners_.emplace(udp.get(), name);
        listeners_.emplace(tcp.get(), name);
    }
    owned_.push_back(std::move(udp));
    owned_.push_back(std::move(tcp));
    if (::write(stop_.get(), &wake, sizeof wake) < 0) common::throw_errno("wake the echo loop");
}

void FlowLab::serve_loop() {
    // The loop polls a copy of the listeners, re-read at every wake-up of stop_ (counter 2
    // per added pod; odd = stop). Accepted connections are the loop's own.
    std::map<int, std::string> snapshot;
    std::map<int, std::pair<common::UniqueFd, std::string>> connections;
    for (;;) {
        std::vector<pollfd> fds{{stop_.get(), POLLIN, 0}};
        for (const auto& [fd, name] : snapshot) fds.push_back({fd, POLLIN, 0});
        for (const auto& [fd, connection] : connections) fds.push_back({fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        if ((fds[0].revents & POLLIN) != 0) {
            std::uint64_t value = 0;
            if (::read(stop_.get(), &value, sizeof value) == sizeof value && value % 2 == 1) return;
            const std::lock_guard lock(mutex_);
            snapshot = listeners_;
            continue;
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            const int fd = fds[i].fd;
            if (const auto listener = snapshot.find(fd); listener != snapshot.end()) {
                int type = 0;
                socklen_t length = sizeof type;
                ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length);
                if (type == SOCK_DGRAM) {
                    char buffer[64];
                    sockaddr_in peer{};
                    socklen_t peer_length = sizeof peer;
                    if (::recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer), &peer_length) >=
                        0) {
                        ::sendto(fd, listener->second.data(), listener->second.size(), 0,
                                 reinterpret_cast<const sockaddr*>(&peer), peer_length);
                    }
                } else {
                    common::UniqueFd accepted(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
                    if (accepted) {
                        const int key = accepted.get();
                        connections.emplace(key, std::make_pair(std::move(accepted), listener->second));
                    }
                }
                continue;
            }
            const auto connection = connections.find(fd);
            if (connection == connections.end()) continue;
            char buffer[64];
            if (::recv(fd, buffer, sizeof buffer, 0) <= 0) {
                connections.erase(connection);
                continue;
            }
            const std::string& name = connection->second.second;
            if (::send(fd, name.data(), name.size(), MSG_NOSIGNAL) < 0) connections.erase(connection);
        }
    }
}

std::vector<std::string> FlowLab::udp_map(int flows, int first_port) const {
    std::vector<std::string> pods;
    const sockaddr_in target = address_of(anycast_, k_port);
    for (int i = 0; i < flows; ++i) {
        common::UniqueFd fd;
        {
            common::netlink::NetnsGuard inside(client_.path());
            fd = open_socket(SOCK_DGRAM);
        }
        bind_to(fd.get(), k_client, static_cast<std::uint16_t>(first_port + i));
        // Not connected: a connected socket stamps its packets with a random per-socket hash
        // (sk_txhash), which veth carries into the node and multipath hashing then uses
        // instead of the ports; a flow would land anywhere each time its socket is new. A
        // packet from outside the node carries none. (A TCP connection's hash is random too,
        // but fixed for its life: enough to see whether it survives.)
        std::string pod;
        for (int attempt = 0; attempt < 3 && pod.empty(); ++attempt) {
            if (::sendto(fd.get(), "?", 1, 0, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 1) continue;
            if (wait_readable(fd.get(), k_reply_timeout_ms)) pod = read_reply(fd.get());
        }
        pods.push_back(pod);
    }
    return pods;
}

std::vector<FlowLab::Connection> FlowLab::tcp_connect(int count, int first_port) const {
    std::vector<Connection> connections;
    const sockaddr_in target = address_of(anycast_, k_port);
    for (int i = 0; i < count; ++i) {
        Connection connection;
        {
            common::netlink::NetnsGuard inside(client_.path());
            connection.fd = open_socket(SOCK_STREAM);
        }
        bind_to(connection.fd.get(), k_client, static_cast<std::uint16_t>(first_port + i));
        if (::connect(connection.fd.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
            common::throw_errno("connect TCP flow from port {}", first_port + i);
        }
        connection.pod = tcp_ask(connection);
        connections.push_back(std::move(connection));
    }
    return connections;
}

std::string FlowLab::tcp_ask(const Connection& connection) {
    if (::send(connection.fd.get(), "?", 1, MSG_NOSIGNAL) != 1) return {};
    // A moved connection reaches a pod that never heard of it: reset at once, or no answer.
    if (!wait_readable(connection.fd.get(), 1000)) return {};
    return read_reply(connection.fd.get());
}

FlowMoves count_moves(const std::vector<std::string>& before, const std::vector<std::string>& after,
                      const std::string& leaving) {
    FlowMoves moves;
    for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
        if (before[i].empty() || after[i].empty()) {
            ++moves.unanswered;
            continue;
        }
        if (before[i] == leaving) {
            ++moves.leaving;
            if (after[i] == leaving) moves.leaving_rehomed = false;
            continue;
        }
        ++moves.on_remaining;
        if (after[i] != before[i]) ++moves.remaining_moved;
    }
    return moves;
}

}  // namespace anycast::test
