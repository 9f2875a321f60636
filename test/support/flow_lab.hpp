// Real flows through the node's ECMP route, for the data-plane test and bench/ecmp_bench:
// UDP and TCP echo servers inside pod namespaces answering with the pod's name, and a client
// namespace sending flows with fixed source ports. Construct it in the node's namespace (a
// PrivateNetns): it adds the client namespace and its veth, turns forwarding and layer-4
// multipath hashing on there, and gives each pod the anycast address on `lo` and a way back.
#pragma once

#include "common/unique_fd.hpp"
#include "test/support/netns.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace anycast::test {

class FlowLab {
public:
    static constexpr std::uint16_t k_port = 7007;

    explicit FlowLab(std::string anycast_v4);
    ~FlowLab();
    FlowLab(const FlowLab&) = delete;
    FlowLab& operator=(const FlowLab&) = delete;

    // Pod `name` in namespace `netns_name`, reached from the node through `host_end`: the
    // anycast address on its lo, a default route out of eth0 (the node answers ARP for the
    // client by proxy) and an echo server on k_port, UDP and TCP.
    void add_pod(const std::string& name, const std::string& netns_name, const std::string& host_end);

    // The pod answering each of `flows` UDP flows from source ports first_port, first_port + 1,
    // ... ("" when none answered after three tries).
    std::vector<std::string> udp_map(int flows, int first_port = 20000) const;

    struct Connection {
        common::UniqueFd fd;
        std::string pod;  // who answered first
    };
    // `count` established TCP connections from source ports first_port, ...
    std::vector<Connection> tcp_connect(int count, int first_port = 30000) const;
    // Asks again on an open connection: the pod's name, or "" when it was reset or closed.
    static std::string tcp_ask(const Connection& connection);

private:
    void serve_loop();

    std::string anycast_;
    NamedNetns client_{"cl"};
    std::string client_host_end_;
    std::mutex mutex_;                      // guards listeners_
    std::map<int, std::string> listeners_;  // fd → pod name (UDP sockets and TCP listeners)
    std::vector<common::UniqueFd> owned_;
    common::UniqueFd stop_;  // eventfd: the server thread ends when it is written
    std::thread server_;
};

// Of the flows in `before` whose pod is not `leaving`, how many answer from another pod in
// `after`; and whether every flow of `leaving` now answers from a pod that stayed.
struct FlowMoves {
    int on_remaining = 0;         // flows that were on a pod that stays
    int remaining_moved = 0;      // of those, now on another pod
    int leaving = 0;              // flows that were on the leaving pod
    bool leaving_rehomed = true;  // each of those now on a remaining pod
    int unanswered = 0;           // flows without an answer, before or after
};
FlowMoves count_moves(const std::vector<std::string>& before, const std::vector<std::string>& after,
                      const std::string& leaving);

}  // namespace anycast::test
