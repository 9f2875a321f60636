// Kernel change notifications: routes (IPv4, IPv6), nexthop objects, rules and links.
#pragma once

#include "common/netlink/link.hpp"
#include "common/netlink/nexthop.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/socket.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace anycast::common::netlink {

struct RouteEvent {
    enum class Kind { added, deleted } kind;
    Route route;  // with its protocol and table: filter on ours
};

struct NexthopEvent {
    enum class Kind { added, deleted } kind;
    Nexthop nexthop;  // with its protocol: filter on ours
};

struct LinkEvent {
    // added: an index not seen before; renamed: same index, new name; changed: anything else
    // (e.g. up/down); deleted: gone.
    enum class Kind { added, deleted, renamed, changed } kind;
    Link link;
    std::string old_name;  // set for renamed
};

struct RuleEvent {
    enum class Kind { added, deleted } kind;
    Rule rule;
};

// The receive buffer overflowed and notifications were lost: dump and diff again.
struct ResyncNeeded {
    friend bool operator==(const ResyncNeeded&, const ResyncNeeded&) = default;
};

using Event = std::variant<RouteEvent, LinkEvent, RuleEvent, NexthopEvent, ResyncNeeded>;

// Decodes one datagram of notifications (nlmsghdr laid end to end, as recv returned it) into
// `events`: unicast routes that are not cache clones, nexthop objects, IPv4/IPv6 rules, and links, told added
// from renamed or changed by `link_names` (index → name), which it keeps current. A malformed
// message is skipped (a route or link one with a warning); nothing the kernel sent is trusted.
// Pure: Monitor::read_events hands it what recv returned, the fuzz target (test/fuzz/) any bytes.
void decode_notifications(const void* datagram, std::size_t length, std::map<int, std::string>& link_names,
                          std::vector<Event>& events);

class Monitor {
public:
    // A non-blocking socket on RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, the
    // IPv4 and IPv6 rule groups and RTNLGRP_NEXTHOP (where the kernel has it), in the calling thread's namespace; knows
    // the current links so it can tell added from renamed.
    static Monitor open();

    // Drive with boost::asio::posix::stream_descriptor::async_wait(wait_read).
    int fd() const { return socket_.fd(); }

    // Drains what is available without blocking. A receive overrun (ENOBUFS) yields one
    // ResyncNeeded (and refreshes the link table) instead of an error.
    std::vector<Event> read_events();

private:
    explicit Monitor(Socket socket) : socket_(std::move(socket)) {}
    void reload_links();

    Socket socket_;
    std::map<int, std::string> link_names_;
};

}  // namespace anycast::common::netlink
