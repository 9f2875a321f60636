// Kernel change notifications: routes (IPv4, IPv6) and links.
#pragma once

#include "common/netlink/link.hpp"
#include "common/netlink/route.hpp"
#include "common/netlink/rule.hpp"
#include "common/netlink/socket.hpp"

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace anycast::common::netlink {

struct RouteEvent {
    enum class Kind { added, deleted } kind;
    Route route;  // with its protocol and table: filter on ours
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

using Event = std::variant<RouteEvent, LinkEvent, RuleEvent, ResyncNeeded>;

class Monitor {
public:
    // A non-blocking socket on RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK and the
    // IPv4 and IPv6 rule groups, in the calling thread's namespace; knows the current links so it can tell added from
    // renamed.
    static Monitor open();

    // Drive with boost::asio::posix::stream_descriptor::async_wait(wait_read).
    int fd() const { return socket_.fd(); }

    // Drains what is available without blocking. A receive overrun (ENOBUFS) yields one
    // ResyncNeeded (and refreshes the link table) instead of an error.
    std::vector<Event> read_events();

private:
    explicit Monitor(Socket socket) : socket_(std::move(socket)) {}
    void handle(const nlmsghdr& message, std::vector<Event>& events);
    void reload_links();

    Socket socket_;
    std::map<int, std::string> link_names_;
};

}  // namespace anycast::common::netlink
