#include "common/netlink/monitor.hpp"

#include "common/log.hpp"
#include "common/netlink/attributes.hpp"
#include "common/netlink/nexthop_message.hpp"
#include "common/netlink/route_message.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

namespace anycast::common::netlink {

Monitor Monitor::open() {
    // IPv6 rules have no RTMGRP_ constant; the bit of group n is 1 << (n - 1).
    constexpr unsigned k_ipv6_rules = 1u << (RTNLGRP_IPV6_RULE - 1);
    Monitor monitor(
        Socket::open(RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE | k_ipv6_rules));
    const int fd = monitor.socket_.fd();
    // RTNLGRP_NEXTHOP is group 32, beyond the bind mask: joined by option. A kernel without
    // nexthop objects (before 5.3) refuses it, and has none of ours to watch.
    const int nexthop_group = RTNLGRP_NEXTHOP;
    if (::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &nexthop_group, sizeof nexthop_group) != 0) {
        log::warn("no nexthop notifications from this kernel", {log::kv("error", std::strerror(errno))});
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("set netlink monitor non-blocking");
    // Subscribed first, then dumped: a link that appears in between is reported as changed,
    // never missed.
    monitor.reload_links();
    return monitor;
}

void Monitor::reload_links() {
    Socket socket = Socket::open();
    link_names_.clear();
    for (auto& link : list_links(socket)) link_names_[link.index] = std::move(link.name);
}

std::vector<Event> Monitor::read_events() {
    std::vector<Event> events;
    // One datagram per recv; 64 KiB holds the largest notification the kernel builds.
    std::array<std::uint8_t, 64 * 1024> buffer;
    bool overrun = false;
    for (;;) {
        const ssize_t n = ::recv(socket_.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == ENOBUFS) {
                // Notifications were dropped; the socket itself is fine. Whoever consumes
                // events must re-read the state, so one marker is enough.
                if (!overrun) events.emplace_back(ResyncNeeded{});
                overrun = true;
                continue;
            }
            throw NetlinkError(errno, "receive netlink notifications");
        }
        decode_notifications(buffer.data(), static_cast<std::size_t>(n), link_names_, events);
    }
    if (overrun) reload_links();
    return events;
}

namespace {

void decode_one(const nlmsghdr& message, std::map<int, std::string>& link_names, std::vector<Event>& events) {
    switch (message.nlmsg_type) {
        case RTM_NEWROUTE:
        case RTM_DELROUTE: {
            auto parsed = parse_route(message);
            if (!parsed) {
                log::warn("ignoring malformed route notification", {log::kv("bytes", message.nlmsg_len)});
                return;
            }
            if (parsed->cloned || parsed->type != RTN_UNICAST) return;
            const auto kind = message.nlmsg_type == RTM_NEWROUTE ? RouteEvent::Kind::added : RouteEvent::Kind::deleted;
            events.emplace_back(RouteEvent{kind, std::move(parsed->route)});
            return;
        }
        case RTM_NEWNEXTHOP:
        case RTM_DELNEXTHOP: {
            auto nexthop = parse_nexthop(message);
            if (!nexthop) {
                log::warn("ignoring malformed nexthop notification", {log::kv("bytes", message.nlmsg_len)});
                return;
            }
            const auto kind =
                message.nlmsg_type == RTM_NEWNEXTHOP ? NexthopEvent::Kind::added : NexthopEvent::Kind::deleted;
            events.emplace_back(NexthopEvent{kind, std::move(*nexthop)});
            return;
        }
        case RTM_NEWRULE:
        case RTM_DELRULE: {
            auto rule = parse_rule(message);
            if (!rule) return;  // not IPv4/IPv6 or malformed: nothing of ours
            const auto kind = message.nlmsg_type == RTM_NEWRULE ? RuleEvent::Kind::added : RuleEvent::Kind::deleted;
            events.emplace_back(RuleEvent{kind, *rule});
            return;
        }
        case RTM_NEWLINK:
        case RTM_DELLINK: {
            auto link = parse_link(message);
            if (!link) {
                log::warn("ignoring malformed link notification", {log::kv("bytes", message.nlmsg_len)});
                return;
            }
            LinkEvent event{LinkEvent::Kind::changed, *link, {}};
            const auto known = link_names.find(link->index);
            if (message.nlmsg_type == RTM_DELLINK) {
                event.kind = LinkEvent::Kind::deleted;
                if (known != link_names.end()) link_names.erase(known);
            } else if (known == link_names.end()) {
                event.kind = LinkEvent::Kind::added;
                link_names.emplace(link->index, link->name);
            } else if (known->second != link->name) {
                event.kind = LinkEvent::Kind::renamed;
                event.old_name = std::exchange(known->second, link->name);
            }
            events.emplace_back(std::move(event));
            return;
        }
        default: return;
    }
}

}  // namespace

void decode_notifications(const void* datagram, std::size_t length, std::map<int, std::string>& link_names,
                          std::vector<Event>& events) {
    const auto* message = static_cast<const nlmsghdr*>(datagram);
    // mnl walks with an int; a datagram is at most the 64 KiB receive buffer.
    int remaining = static_cast<int>(std::min<std::size_t>(length, INT_MAX));
    while (message_fits(message, remaining)) {
        decode_one(*message, link_names, events);
        message = mnl_nlmsg_next(message, &remaining);
    }
}

}  // namespace anycast::common::netlink
