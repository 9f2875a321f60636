#include "common/netlink/route.hpp"

#include "common/netlink/attributes.hpp"
#include "common/netlink/message.hpp"
#include "common/netlink/route_message.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

namespace anycast::common::netlink {

RouteLookup lookup_route(Socket& socket, const IpAddress& destination) {
    MessageBuilder request(RTM_GETROUTE, 0);
    auto& header = request.family_header<rtmsg>();
    header.rtm_family = static_cast<std::uint8_t>(address_family(destination.family()));
    header.rtm_dst_len = static_cast<std::uint8_t>(destination.max_prefix_len());
    request.put_address(RTA_DST, destination);

    const std::string description = fmt::format("RTM_GETROUTE {}", destination);
    std::optional<RouteLookup> result;
    socket.query(request.header(), description, [&](const nlmsghdr& reply) {
        if (reply.nlmsg_type != RTM_NEWROUTE) return;
        const auto attributes = Attributes::parse(reply, sizeof(rtmsg), RTA_MAX,
                                                  {{RTA_OIF, MNL_TYPE_U32, 0}, {RTA_GATEWAY, MNL_TYPE_BINARY, 0}});
        if (!attributes) return;
        const auto oif = attributes->u32(RTA_OIF);
        if (!oif) return;
        result = RouteLookup{static_cast<int>(*oif), attributes->address(RTA_GATEWAY, destination.family())};
    });
    if (!result) throw NetlinkError(EBADMSG, description + ": no usable reply (no RTA_OIF)");
    return *result;
}

std::vector<Route> dump_routes(Socket& socket, std::uint32_t table, int protocol, std::size_t expected) {
    std::vector<Route> routes;
    routes.reserve(expected);
    for (const Family family : {Family::v4, Family::v6}) {
        MessageBuilder request(RTM_GETROUTE, 0);
        auto& filter = request.family_header<rtmsg>();
        filter.rtm_family = static_cast<std::uint8_t>(address_family(family));
        // Under strict checking the kernel filters on these; we filter again below for
        // kernels without it.
        filter.rtm_protocol = static_cast<std::uint8_t>(protocol);
        filter.rtm_table = static_cast<std::uint8_t>(table > 255 ? 0 : table);  // RT_TABLE_UNSPEC
        request.put_u32(RTA_TABLE, table);
        const std::string description =
            "dump IPv" + std::to_string(family_number(family)) + " routes of table " + std::to_string(table);
        // Messages come as they are read; an interrupted dump starts this family again.
        const std::size_t before = routes.size();
        const auto restart = [&] { routes.resize(before); };
        try {
            socket.dump(
                request.header(), description,
                [&](const nlmsghdr& message) {
                    auto parsed = parse_route(message);
                    if (!parsed || parsed->cloned || parsed->type != RTN_UNICAST) return;
                    if (parsed->route.table != table || parsed->route.protocol != protocol) return;
                    routes.push_back(std::move(parsed->route));
                },
                restart);
        } catch (const NetlinkError& e) {
            // A table without any route does not exist yet: the kernel says ENOENT.
            if (e.error_number() != ENOENT) throw;
            restart();
        }
    }
    return merge_routes(std::move(routes));
}

void replace_route(Socket& socket, const Route& route) {
    MessageBuilder message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route_message_capacity(route));
    build_route_message(message, route);
    socket.execute(message.header(), describe_route_request(RTM_NEWROUTE, route));
}

bool delete_route(Socket& socket, const Route& route) {
    MessageBuilder message(RTM_DELROUTE, 0, route_message_capacity(route));
    build_route_message(message, route);
    const int error = socket.execute(message.header(), describe_route_request(RTM_DELROUTE, route), {ESRCH, ENOENT});
    return error == 0;
}

}  // namespace anycast::common::netlink
