#include "common/netlink/nexthop_message.hpp"

#include "common/netlink/attributes.hpp"

#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>

namespace anycast::common::netlink {

namespace {

// The kernel keeps resilient timers in clock_t (USER_HZ ticks); iproute2 converts the same way.
constexpr std::uint32_t k_user_hz = 100;

void put_u16(MessageBuilder& message, std::uint16_t type, std::uint16_t value) {
    message.put(type, &value, sizeof value);
}

std::optional<std::uint16_t> u16(const Attributes& attributes, std::uint16_t type) {
    const nlattr* attribute = attributes.get(type);
    if (attribute == nullptr) return std::nullopt;
    return mnl_attr_get_u16(attribute);
}

std::optional<NexthopGroup> parse_group(const Attributes& attributes) {
    const nlattr* members = attributes.get(NHA_GROUP);
    const std::size_t length = mnl_attr_get_payload_len(members);
    if (length == 0 || length % sizeof(nexthop_grp) != 0) return std::nullopt;
    NexthopGroup group;
    const auto* entries = static_cast<const nexthop_grp*>(mnl_attr_get_payload(members));
    for (std::size_t i = 0; i < length / sizeof(nexthop_grp); ++i) group.members.push_back(entries[i].id);
    std::sort(group.members.begin(), group.members.end());
    group.resilient = u16(attributes, NHA_GROUP_TYPE).value_or(NEXTHOP_GRP_TYPE_MPATH) == NEXTHOP_GRP_TYPE_RES;
    if (!group.resilient) return group;
    const nlattr* resilient = attributes.get(NHA_RES_GROUP);
    if (resilient == nullptr) return std::nullopt;
    const auto table = Attributes::parse_payload(
        mnl_attr_get_payload(resilient), mnl_attr_get_payload_len(resilient), NHA_RES_GROUP_MAX,
        {{NHA_RES_GROUP_BUCKETS, MNL_TYPE_U16, 0}, {NHA_RES_GROUP_IDLE_TIMER, MNL_TYPE_U32, 0}});
    if (!table) return std::nullopt;
    group.buckets = u16(*table, NHA_RES_GROUP_BUCKETS).value_or(0);
    group.idle_seconds = table->u32(NHA_RES_GROUP_IDLE_TIMER).value_or(0) / k_user_hz;
    return group;
}

}  // namespace

void build_nexthop_message(MessageBuilder& message, const Nexthop& nexthop) {
    const bool remove = message.header().nlmsg_type == RTM_DELNEXTHOP;
    auto& header = message.family_header<nhmsg>();
    header.nh_family = AF_UNSPEC;
    message.put_u32(NHA_ID, nexthop.id);
    // A delete names the id alone: the kernel refuses one with any header field set (EINVAL,
    // "Invalid values in header"), the protocol included.
    if (remove) return;
    header.nh_protocol = static_cast<std::uint8_t>(nexthop.protocol);
    if (nexthop.hop) {
        header.nh_family = static_cast<std::uint8_t>(address_family(nexthop.hop->gateway.family()));
        // onlink for the reason our routes' hops are (route_message.cpp): a pod behind a /32.
        header.nh_flags = RTNH_F_ONLINK;
        message.put_u32(NHA_OIF, static_cast<std::uint32_t>(nexthop.hop->ifindex));
        message.put_address(NHA_GATEWAY, nexthop.hop->gateway);
    } else if (nexthop.group) {
        const NexthopGroup& group = *nexthop.group;
        std::vector<nexthop_grp> entries(group.members.size());
        for (std::size_t i = 0; i < entries.size(); ++i) entries[i] = nexthop_grp{group.members[i], 0, 0, 0};
        message.put(NHA_GROUP, entries.data(), entries.size() * sizeof(nexthop_grp));
        put_u16(message, NHA_GROUP_TYPE,
                static_cast<std::uint16_t>(group.resilient ? NEXTHOP_GRP_TYPE_RES : NEXTHOP_GRP_TYPE_MPATH));
        if (group.resilient) {
            nlattr* nest = message.begin_nest(NHA_RES_GROUP);
            put_u16(message, NHA_RES_GROUP_BUCKETS, group.buckets);
            message.put_u32(NHA_RES_GROUP_IDLE_TIMER, group.idle_seconds * k_user_hz);
            message.end_nest(nest);
        }
    }
}

std::size_t nexthop_message_capacity(const Nexthop& nexthop) {
    constexpr std::size_t u32 = MNL_ATTR_HDRLEN + MNL_ALIGN(4);
    constexpr std::size_t fixed = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nhmsg)) + u32 /* NHA_ID */ + u32 /* NHA_OIF */ +
                                  MNL_ATTR_HDRLEN + MNL_ALIGN(16) /* NHA_GATEWAY */ + MNL_ATTR_HDRLEN /* NHA_GROUP */ +
                                  u32 /* NHA_GROUP_TYPE */ + MNL_ATTR_HDRLEN + 2 * u32 /* NHA_RES_GROUP */;
    return fixed + (nexthop.group ? nexthop.group->members.size() * sizeof(nexthop_grp) : 0);
}

std::string describe_nexthop_request(std::uint16_t type, const Nexthop& nexthop) {
    return std::string(type == RTM_NEWNEXTHOP   ? "RTM_NEWNEXTHOP "
                       : type == RTM_DELNEXTHOP ? "RTM_DELNEXTHOP "
                                                : "RTM_GETNEXTHOP ") +
           describe_nexthop(nexthop);
}

std::string describe_nexthop(const Nexthop& nexthop) {
    std::string text = "id " + std::to_string(nexthop.id);
    if (nexthop.hop) {
        text += " via " + nexthop.hop->gateway.to_string() + " dev " + std::to_string(nexthop.hop->ifindex);
    } else if (nexthop.group) {
        text += " group ";
        for (std::size_t i = 0; i < nexthop.group->members.size(); ++i) {
            text += (i == 0 ? "" : "/") + std::to_string(nexthop.group->members[i]);
        }
        if (nexthop.group->resilient) {
            text += " resilient buckets " + std::to_string(nexthop.group->buckets) + " idle " +
                    std::to_string(nexthop.group->idle_seconds) + "s";
        }
    }
    return text;
}

std::optional<Nexthop> parse_nexthop(const nlmsghdr& message) {
    if (message.nlmsg_type != RTM_NEWNEXTHOP && message.nlmsg_type != RTM_DELNEXTHOP) return std::nullopt;
    const auto attributes = Attributes::parse(message, sizeof(nhmsg), NHA_MAX,
                                              {{NHA_ID, MNL_TYPE_U32, 0},
                                               {NHA_GROUP, MNL_TYPE_BINARY, 0},
                                               {NHA_GROUP_TYPE, MNL_TYPE_U16, 0},
                                               {NHA_OIF, MNL_TYPE_U32, 0},
                                               {NHA_GATEWAY, MNL_TYPE_BINARY, 0},
                                               {NHA_RES_GROUP, MNL_TYPE_NESTED, 0}});
    if (!attributes) return std::nullopt;
    const auto id = attributes->u32(NHA_ID);
    if (!id || *id == 0) return std::nullopt;
    const auto* header = static_cast<const nhmsg*>(mnl_nlmsg_get_payload(&message));
    Nexthop nexthop{*id, header->nh_protocol, std::nullopt, std::nullopt};
    if (attributes->has(NHA_GROUP)) {
        nexthop.group = parse_group(*attributes);
        if (!nexthop.group) return std::nullopt;
    } else if (attributes->has(NHA_GATEWAY)) {
        const auto family = family_from(header->nh_family);
        if (!family) return std::nullopt;
        const auto gateway = attributes->address(NHA_GATEWAY, *family);
        if (!gateway) return std::nullopt;
        nexthop.hop = NextHop{*gateway, static_cast<int>(attributes->u32(NHA_OIF).value_or(0))};
    }
    return nexthop;
}

}  // namespace anycast::common::netlink
