#include "common/netlink/route_message.hpp"

#include "common/netlink/attributes.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

namespace anycast::common::netlink {

namespace {

// rtm_table is one byte; larger table ids travel in RTA_TABLE only.
constexpr std::uint32_t k_max_byte_table = 255;

IpAddress unspecified(Family family) {
    const std::array<std::uint8_t, 16> zero{};
    return IpAddress::from_bytes(family, zero.data());
}

std::optional<NextHop> hop_from(const Attributes& attributes, Family family, int ifindex) {
    auto gateway = attributes.address(RTA_GATEWAY, family);
    if (attributes.has(RTA_GATEWAY) && !gateway) return std::nullopt;  // wrong size (e.g. RTA_VIA case)
    NextHop hop{gateway.value_or(unspecified(family)), ifindex};
    return hop;
}

// Decodes RTA_MULTIPATH: rtnexthop records, each followed by its own attributes.
std::optional<std::vector<NextHop>> parse_multipath(const nlattr& attr, Family family) {
    std::vector<NextHop> hops;
    const auto* cursor = static_cast<const std::uint8_t*>(mnl_attr_get_payload(&attr));
    std::size_t remaining = mnl_attr_get_payload_len(&attr);
    while (remaining >= sizeof(rtnexthop)) {
        const auto* record = reinterpret_cast<const rtnexthop*>(cursor);
        if (record->rtnh_len < sizeof(rtnexthop) || record->rtnh_len > remaining) return std::nullopt;
        const std::size_t header = RTNH_ALIGN(sizeof(rtnexthop));
        const std::size_t attributes_length = record->rtnh_len > header ? record->rtnh_len - header : 0;
        const auto attributes =
            Attributes::parse_payload(cursor + header, attributes_length, RTA_MAX, {{RTA_GATEWAY, MNL_TYPE_BINARY, 0}});
        if (!attributes) return std::nullopt;
        auto hop = hop_from(*attributes, family, record->rtnh_ifindex);
        if (!hop) return std::nullopt;
        hops.push_back(*hop);
        const std::size_t step = std::min<std::size_t>(RTNH_ALIGN(record->rtnh_len), remaining);
        cursor += step;
        remaining -= step;
    }
    return hops;
}

}  // namespace

void build_route_message(MessageBuilder& message, const Route& route) {
    const bool remove = message.header().nlmsg_type == RTM_DELROUTE;
    const IpAddress& destination = route.destination.address();
    auto& header = message.family_header<rtmsg>();
    header.rtm_family = static_cast<std::uint8_t>(address_family(destination.family()));
    header.rtm_dst_len = static_cast<std::uint8_t>(route.destination.length());
    header.rtm_table =
        static_cast<std::uint8_t>(route.table > k_max_byte_table ? 0 : route.table);  // 0 = RT_TABLE_UNSPEC
    header.rtm_protocol = static_cast<std::uint8_t>(route.protocol);
    // RT_SCOPE_NOWHERE on delete means "any scope", as `ip route del` sends.
    header.rtm_scope = remove ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
    header.rtm_type = RTN_UNICAST;
    message.put_address(RTA_DST, destination);
    if (route.table > k_max_byte_table) message.put_u32(RTA_TABLE, route.table);
    // The metric, so a delete removes that route and no other of the destination (without
    // it IPv6 deletes the first one it finds, whatever its metric); IPv6's default is sent
    // explicitly for the same reason.
    const std::uint32_t priority =
        route.priority != 0 || destination.family() == Family::v4 ? route.priority : k_ipv6_default_priority;
    if (priority != 0) message.put_u32(RTA_PRIORITY, priority);
    // A delete names destination, table, protocol and metric only: it removes the route with
    // whatever hops it has now (IPv6 then drops all siblings of a multipath route).
    if (remove) return;
    if (route.nexthop_id != 0) {
        // The hops live in the nexthop object; the route only names it.
        message.put_u32(RTA_NH_ID, route.nexthop_id);
        return;
    }
    // Every hop is "onlink": the gateway is a pod reached through that very interface, often a
    // /32 link route (ptp, Calico-style). Without the flag BIRD's kernel protocol rejects the
    // route ("KRT: Received route ... with strange next-hop") and never announces it;
    // measured with BIRD 2.0.12, see docs/design-notes.md.
    if (route.hops.size() == 1) {
        header.rtm_flags |= RTNH_F_ONLINK;
        message.put_address(RTA_GATEWAY, route.hops.front().gateway);
        message.put_u32(RTA_OIF, static_cast<std::uint32_t>(route.hops.front().ifindex));
    } else if (!route.hops.empty()) {
        nlattr* nest = message.begin_nest(RTA_MULTIPATH);
        for (const auto& hop : route.hops) {
            auto* record = static_cast<rtnexthop*>(message.reserve(sizeof(rtnexthop)));
            record->rtnh_ifindex = hop.ifindex;
            record->rtnh_flags = RTNH_F_ONLINK;
            message.put_address(RTA_GATEWAY, hop.gateway);
            record->rtnh_len = static_cast<unsigned short>(message.length_since(record));
        }
        message.end_nest(nest);
    }
}

std::size_t route_message_capacity(const Route& route) {
    // Sized for IPv6 addresses, the larger; one hop's RTA_GATEWAY and RTA_OIF or the
    // RTA_MULTIPATH header, whichever the route uses, fit in the fixed part.
    constexpr std::size_t address = MNL_ATTR_HDRLEN + MNL_ALIGN(16);
    constexpr std::size_t u32 = MNL_ATTR_HDRLEN + MNL_ALIGN(4);
    constexpr std::size_t fixed = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(rtmsg)) + address /* RTA_DST */ +
                                  u32 /* RTA_TABLE */ + u32 /* RTA_PRIORITY */ + address /* RTA_GATEWAY */ +
                                  u32 /* RTA_OIF */;
    constexpr std::size_t per_hop = RTNH_ALIGN(sizeof(rtnexthop)) + address;
    return fixed + route.hops.size() * per_hop;
}

std::string describe_route_request(std::uint16_t type, const Route& route) {
    const char* name = type == RTM_NEWROUTE ? "RTM_NEWROUTE" : type == RTM_DELROUTE ? "RTM_DELROUTE" : "RTM_GETROUTE";
    std::string text =
        std::string(name) + " " + route.destination.to_string() + " table " + std::to_string(route.table);
    if (route.priority != 0) text += " metric " + std::to_string(route.priority);
    if (route.nexthop_id != 0) text += " nhid " + std::to_string(route.nexthop_id);
    for (const auto& hop : route.hops) {
        text += " via " + hop.gateway.to_string() + " dev " + std::to_string(hop.ifindex);
    }
    return text;
}

std::optional<ParsedRoute> parse_route(const nlmsghdr& message) {
    if (message.nlmsg_type != RTM_NEWROUTE && message.nlmsg_type != RTM_DELROUTE) return std::nullopt;
    const auto attributes = Attributes::parse(message, sizeof(rtmsg), RTA_MAX,
                                              {{RTA_DST, MNL_TYPE_BINARY, 0},
                                               {RTA_GATEWAY, MNL_TYPE_BINARY, 0},
                                               {RTA_OIF, MNL_TYPE_U32, 0},
                                               {RTA_TABLE, MNL_TYPE_U32, 0},
                                               {RTA_PRIORITY, MNL_TYPE_U32, 0},
                                               {RTA_NH_ID, MNL_TYPE_U32, 0},
                                               {RTA_MULTIPATH, MNL_TYPE_BINARY, 0}});
    if (!attributes) return std::nullopt;
    const auto* header = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&message));
    const auto parsed_family = family_from(header->rtm_family);
    if (!parsed_family) return std::nullopt;
    const Family family = *parsed_family;
    const unsigned max_length = family == Family::v4 ? 32 : 128;
    if (header->rtm_dst_len > max_length) return std::nullopt;

    IpAddress destination = unspecified(family);
    if (attributes->has(RTA_DST)) {
        auto parsed = attributes->address(RTA_DST, family);
        if (!parsed) return std::nullopt;
        destination = *parsed;
    }

    ParsedRoute result{Route{Prefix::masked(destination, header->rtm_dst_len),
                             {},
                             header->rtm_protocol,
                             attributes->u32(RTA_TABLE).value_or(header->rtm_table)},
                       header->rtm_type, (header->rtm_flags & RTM_F_CLONED) != 0};
    result.route.priority = attributes->u32(RTA_PRIORITY).value_or(0);
    if (family == Family::v6 && result.route.priority == k_ipv6_default_priority) result.route.priority = 0;
    result.route.nexthop_id = attributes->u32(RTA_NH_ID).value_or(0);
    if (const nlattr* multipath = attributes->get(RTA_MULTIPATH)) {
        auto hops = parse_multipath(*multipath, family);
        if (!hops) return std::nullopt;
        result.route.hops = std::move(*hops);
    } else if (attributes->has(RTA_GATEWAY) || attributes->has(RTA_OIF)) {
        auto hop = hop_from(*attributes, family, static_cast<int>(attributes->u32(RTA_OIF).value_or(0)));
        if (!hop) return std::nullopt;
        result.route.hops.push_back(*hop);
    }
    std::sort(result.route.hops.begin(), result.route.hops.end());
    return result;
}

std::vector<Route> merge_routes(std::vector<Route> routes) {
    // Keyed by metric too: a second route at another metric is another route (IPv6 siblings
    // of one multipath route share theirs). Merged in place, in key order: a tree of copies
    // of every route was 3 MB of a pass re-reading 20 000 of ours.
    const auto key = [](const Route& route) { return std::tie(route.table, route.destination, route.priority); };
    std::stable_sort(routes.begin(), routes.end(), [&](const Route& a, const Route& b) { return key(a) < key(b); });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < routes.size(); ++i) {
        if (kept > 0 && key(routes[kept - 1]) == key(routes[i])) {
            auto& hops = routes[kept - 1].hops;
            hops.insert(hops.end(), routes[i].hops.begin(), routes[i].hops.end());
            continue;
        }
        if (kept != i) routes[kept] = std::move(routes[i]);
        ++kept;
    }
    routes.erase(routes.begin() + static_cast<std::ptrdiff_t>(kept), routes.end());
    for (auto& route : routes) {
        std::sort(route.hops.begin(), route.hops.end());
        route.hops.erase(std::unique(route.hops.begin(), route.hops.end()), route.hops.end());
    }
    std::sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) {
        return std::tie(a.destination, a.priority) < std::tie(b.destination, b.priority);
    });
    return routes;
}

}  // namespace anycast::common::netlink
