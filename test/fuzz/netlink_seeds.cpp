// Seeds for the netlink fuzz target: real rtnetlink bytes from the kernel, written as files
// of test/fuzz/corpus/netlink/. Run as root (the seeds in the tree came from it):
//   <build>/test/fuzz/netlink_seeds test/fuzz/corpus/netlink
// It first moves itself into a new, empty network namespace (unshare(CLONE_NEWNET)), so the
// veth pair, addresses, routes and rules it makes never touch the host's and vanish with it.
// Then it records, as the agent would receive them: the notifications the changes cause (one
// file per datagram, as Monitor::read_events gets them) and the link, route and rule dumps
// (one file per dump, its messages end to end, as Socket::dump hands them on).
#include "common/error.hpp"
#include "common/ip_address.hpp"
#include "common/netlink/address.hpp"
#include "common/netlink/attributes.hpp"
#include "common/netlink/change_batch.hpp"
#include "common/netlink/link.hpp"
#include "common/netlink/message.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/socket.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace anycast::common;
using namespace anycast::common::netlink;
namespace fs = std::filesystem;

using Bytes = std::vector<std::uint8_t>;

IpAddress ip(const char* text) {
    const auto parsed = IpAddress::parse(text);
    if (!parsed) throw std::invalid_argument(std::string("bad address ") + text);
    return *parsed;
}

Prefix host(const char* text) { return Prefix::host(ip(text)); }

// `ip` for what the project's netlink layer does not do (create, rename, delete a link).
void run_ip(const std::vector<std::string>& args) {
    const pid_t child = ::fork();
    if (child < 0) throw_errno("fork");
    if (child == 0) {
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>("ip"));
        for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        ::execvp("ip", argv.data());
        std::perror("exec ip");
        ::_exit(127);
    }
    int status = 0;
    if (::waitpid(child, &status, 0) < 0) throw_errno("waitpid ip");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("ip command failed");
}

class SeedWriter {
public:
    explicit SeedWriter(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

    // Writes `bytes` as <dir>/<name> unless the same bytes were written already.
    void write(const std::string& name, const Bytes& bytes) {
        if (bytes.empty() || !seen_.insert(bytes).second) return;
        std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + (dir_ / name).string());
        std::cout << (dir_ / name).string() << " (" << bytes.size() << " bytes)\n";
        ++written_;
    }

    int written() const { return written_; }

private:
    fs::path dir_;
    std::set<Bytes> seen_;
    int written_ = 0;
};

// "RTM_NEWROUTE-RTM_NEWROUTE": the message types of one datagram, for its file name.
std::string type_names(const Bytes& datagram) {
    std::string names;
    const auto* message = reinterpret_cast<const nlmsghdr*>(datagram.data());
    int remaining = static_cast<int>(datagram.size());
    while (message_fits(message, remaining)) {
        const char* name = "other";
        switch (message->nlmsg_type) {
            case RTM_NEWLINK: name = "newlink"; break;
            case RTM_DELLINK: name = "dellink"; break;
            case RTM_NEWADDR: name = "newaddr"; break;
            case RTM_DELADDR: name = "deladdr"; break;
            case RTM_NEWROUTE: name = "newroute"; break;
            case RTM_DELROUTE: name = "delroute"; break;
            case RTM_NEWRULE: name = "newrule"; break;
            case RTM_DELRULE: name = "delrule"; break;
            case RTM_NEWNEXTHOP: name = "newnexthop"; break;
            case RTM_DELNEXTHOP: name = "delnexthop"; break;
            default: break;
        }
        names += names.empty() ? name : std::string("-") + name;
        message = mnl_nlmsg_next(message, &remaining);
    }
    return names;
}

// Every datagram the monitor socket has queued, one seed each.
void drain_notifications(Socket& monitor, SeedWriter& seeds, int& counter) {
    std::array<std::uint8_t, 64 * 1024> buffer;
    for (;;) {
        const ssize_t n = ::recv(monitor.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            throw_errno("receive netlink notifications");
        }
        const Bytes datagram(buffer.begin(), buffer.begin() + n);
        char prefix[32];
        std::snprintf(prefix, sizeof prefix, "monitor-%02d-", counter++);
        seeds.write(prefix + type_names(datagram), datagram);
    }
}

// A dump's messages end to end, as Socket::dump delivers them.
Bytes dump(Socket& socket, MessageBuilder& request, const std::string& what) {
    Bytes bytes;
    socket.dump(request.header(), what, [&](const nlmsghdr& message) {
        const auto* begin = reinterpret_cast<const std::uint8_t*>(&message);
        bytes.insert(bytes.end(), begin, begin + message.nlmsg_len);
        bytes.resize(NLMSG_ALIGN(bytes.size()));
    });
    return bytes;
}

void write_dumps(Socket& socket, SeedWriter& seeds, const std::string& suffix) {
    {
        MessageBuilder request(RTM_GETLINK, 0);
        request.family_header<ifinfomsg>().ifi_family = AF_UNSPEC;
        seeds.write("dump-links" + suffix, dump(socket, request, "dump links"));
    }
    for (const auto& [family, name] : {std::pair{AF_INET, "v4"}, std::pair{AF_INET6, "v6"}}) {
        MessageBuilder routes(RTM_GETROUTE, 0);
        routes.family_header<rtmsg>().rtm_family = static_cast<std::uint8_t>(family);
        seeds.write("dump-routes-" + std::string(name) + suffix, dump(socket, routes, "dump routes"));
        MessageBuilder rules(RTM_GETRULE, 0);
        rules.family_header<fib_rule_hdr>().family = static_cast<std::uint8_t>(family);
        seeds.write("dump-rules-" + std::string(name) + suffix, dump(socket, rules, "dump rules"));
    }
}

// Resilient mode (docs/ecmp.md), last so the seeds before keep their names: gateway objects,
// a resilient group and routes naming it, the group shrunk, everything removed; the
// notifications (RTNLGRP_NEXTHOP joined only now) and a dump of the objects.
void write_nexthop_seeds(Socket& socket, Socket& monitor, SeedWriter& seeds, int& counter) {
    const int group = RTNLGRP_NEXTHOP;
    if (::setsockopt(monitor.fd(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
        throw_errno("join RTNLGRP_NEXTHOP");
    }
    run_ip({"link", "add", "flkseed2", "type", "veth", "peer", "name", "flkseed2p"});
    const auto link = find_link(socket, "flkseed2");
    const auto peer = find_link(socket, "flkseed2p");
    if (!link || !peer) throw std::runtime_error("veth pair flkseed2/flkseed2p not found after creating it");
    set_link_up(socket, peer->index);
    set_link_up(socket, link->index);
    drain_notifications(monitor, seeds, counter);
    const int dev = link->index;
    const auto gateway = [&](std::uint32_t id, const char* via) {
        return Nexthop{id, 241, NextHop{ip(via), dev}, std::nullopt};
    };
    const auto resilient = [](std::uint32_t id, std::vector<std::uint32_t> members) {
        return Nexthop{id, 241, std::nullopt, NexthopGroup{std::move(members), true, 128, 120}};
    };
    Route v4{host("10.255.53.55"), {}, 241, 241};
    v4.nexthop_id = 20;
    Route v6{host("fd00:255::55"), {}, 241, 241};
    v6.nexthop_id = 21;
    using Kind = NexthopChange::Kind;
    apply_kernel_changes(socket, {{{Kind::create, gateway(10, "10.0.0.12")},
                                   {Kind::create, gateway(11, "10.0.0.13")},
                                   {Kind::create, gateway(12, "fd00::12")},
                                   {Kind::create, resilient(20, {10, 11})},
                                   {Kind::create, resilient(21, {12})}},
                                  {{RouteChange::Kind::replace, v4}, {RouteChange::Kind::replace, v6}},
                                  {}});
    drain_notifications(monitor, seeds, counter);
    MessageBuilder request(RTM_GETNEXTHOP, 0);
    request.family_header<nhmsg>().nh_family = AF_UNSPEC;
    seeds.write("dump-nexthops", dump(socket, request, "dump nexthops"));
    MessageBuilder routes(RTM_GETROUTE, 0);
    routes.family_header<rtmsg>().rtm_family = AF_INET6;
    seeds.write("dump-routes-v6-nexthop", dump(socket, routes, "dump routes"));
    apply_kernel_changes(socket,
                         {{{Kind::replace, resilient(20, {11})}}, {}, {{Kind::remove, gateway(10, "10.0.0.12")}}});
    drain_notifications(monitor, seeds, counter);
    apply_kernel_changes(socket, {{},
                                  {{RouteChange::Kind::remove, v4}, {RouteChange::Kind::remove, v6}},
                                  {{Kind::remove, resilient(20, {11})},
                                   {Kind::remove, resilient(21, {12})},
                                   {Kind::remove, gateway(11, "10.0.0.13")},
                                   {Kind::remove, gateway(12, "fd00::12")}}});
    drain_notifications(monitor, seeds, counter);
}

void generate(const fs::path& dir) {
    // Never the host's namespace: everything below happens in a fresh one.
    if (::unshare(CLONE_NEWNET) != 0) throw_errno("unshare(CLONE_NEWNET) (run as root)");
    SeedWriter seeds(dir);
    int counter = 0;
    constexpr unsigned k_ipv6_rules = 1u << (RTNLGRP_IPV6_RULE - 1);
    Socket monitor =
        Socket::open(RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE | k_ipv6_rules);
    Socket socket = Socket::open();
    set_link_up(socket, 1);

    // A veth pair, as a pod's host side is (and some kernels have no dummy driver).
    run_ip({"link", "add", "flkseed0", "type", "veth", "peer", "name", "flkseed0p"});
    const auto link = find_link(socket, "flkseed0");
    const auto peer = find_link(socket, "flkseed0p");
    if (!link || !peer) throw std::runtime_error("veth pair flkseed0/flkseed0p not found after creating it");
    set_link_up(socket, peer->index);
    set_link_up(socket, link->index);
    add_address(socket, link->index, ip("10.0.0.1"));
    add_address(socket, link->index, ip("fd00::1"));
    drain_notifications(monitor, seeds, counter);

    // What serve installs: host routes with protocol 241 in table 241, onlink hops, one plain
    // and several as RTA_MULTIPATH; one table above 255 (RTA_TABLE only); the ip rules.
    const int dev = link->index;
    replace_route(socket, Route{host("10.255.53.53"), {{ip("10.0.0.12"), dev}, {ip("10.0.0.13"), dev}}, 241, 241});
    replace_route(socket, Route{host("10.255.53.54"), {{ip("10.0.0.12"), dev}}, 241, 241});
    replace_route(socket, Route{host("fd00:255::53"), {{ip("fd00::12"), dev}, {ip("fd00::13"), dev}}, 241, 241});
    replace_route(socket, Route{host("fd00:255::54"), {{ip("fd00::12"), dev}}, 241, 241});
    replace_route(socket, Route{host("10.255.0.1"), {{ip("10.0.0.12"), dev}}, 241, 100000});
    ensure_rule(socket, Family::v4, 1000, 241);
    ensure_rule(socket, Family::v6, 1000, 241);
    drain_notifications(monitor, seeds, counter);
    write_dumps(socket, seeds, "");

    // Changes as serve sees them: a multipath route shrunk, routes and a rule deleted, the
    // link down (which takes its IPv4 routes with it), renamed and deleted.
    replace_route(socket, Route{host("10.255.53.53"), {{ip("10.0.0.12"), dev}}, 241, 241});
    delete_route(socket, Route{host("fd00:255::54"), {}, 241, 241});
    remove_rule(socket, Family::v6, 1000, 241);
    drain_notifications(monitor, seeds, counter);
    write_dumps(socket, seeds, "-after");
    run_ip({"link", "set", "flkseed0", "down"});  // a link is renamed only when down
    drain_notifications(monitor, seeds, counter);
    run_ip({"link", "set", "flkseed0", "name", "flkseed1"});
    drain_notifications(monitor, seeds, counter);
    run_ip({"link", "del", "flkseed1"});
    drain_notifications(monitor, seeds, counter);
    write_nexthop_seeds(socket, monitor, seeds, counter);
    std::cout << seeds.written() << " seed files\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " OUTPUT_DIR (as root; works in a private network namespace)\n";
        return 2;
    }
    try {
        generate(argv[1]);
    } catch (const std::exception& e) {
        std::cerr << "netlink_seeds: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
