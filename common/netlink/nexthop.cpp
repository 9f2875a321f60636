#include "common/netlink/nexthop.hpp"

#include "common/netlink/message.hpp"
#include "common/netlink/nexthop_message.hpp"

#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace anycast::common::netlink {

NexthopTable dump_nexthops(Socket& socket, int protocol, std::size_t expected_ours) {
    NexthopTable table;
    table.ours.reserve(expected_ours);
    MessageBuilder request(RTM_GETNEXTHOP, 0);
    request.family_header<nhmsg>().nh_family = AF_UNSPEC;
    const auto restart = [&] {
        table.ours.clear();
        table.others.clear();
    };
    try {
        socket.dump(
            request.header(), "dump nexthop objects",
            [&](const nlmsghdr& message) {
                auto nexthop = parse_nexthop(message);
                if (!nexthop) return;
                if (nexthop->protocol == protocol) {
                    table.ours.push_back(std::move(*nexthop));
                } else {
                    table.others.push_back(nexthop->id);
                }
            },
            restart);
    } catch (const NetlinkError& e) {
        // A kernel before 5.3 has no RTM_GETNEXTHOP handler: no objects, hence none of ours.
        if (e.error_number() != EOPNOTSUPP && e.error_number() != EINVAL) throw;
        restart();
    }
    std::sort(table.ours.begin(), table.ours.end(), [](const Nexthop& a, const Nexthop& b) { return a.id < b.id; });
    std::sort(table.others.begin(), table.others.end());
    return table;
}

}  // namespace anycast::common::netlink
