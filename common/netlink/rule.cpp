#include "common/netlink/rule.hpp"

#include "common/netlink/attributes.hpp"
#include "common/netlink/message.hpp"

#include <libmnl/libmnl.h>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <cerrno>

namespace anycast::common::netlink {

namespace {

void build_rule_message(MessageBuilder& message, Family family, std::uint32_t priority, std::uint32_t table) {
    auto& header = message.family_header<fib_rule_hdr>();
    header.family = static_cast<std::uint8_t>(address_family(family));
    header.action = FR_ACT_TO_TBL;
    header.table = static_cast<std::uint8_t>(table > 255 ? 0 : table);  // 0 = RT_TABLE_UNSPEC
    message.put_u32(FRA_PRIORITY, priority);
    message.put_u32(FRA_TABLE, table);
}

std::string describe(const char* what, Family family, std::uint32_t priority, std::uint32_t table) {
    return std::string(what) + " IPv" + std::to_string(family_number(family)) + " priority " +
           std::to_string(priority) + " lookup " + std::to_string(table);
}

}  // namespace

std::optional<Rule> parse_rule(const nlmsghdr& message) {
    if (message.nlmsg_type != RTM_NEWRULE && message.nlmsg_type != RTM_DELRULE) return std::nullopt;
    if (message.nlmsg_len < NLMSG_LENGTH(sizeof(fib_rule_hdr))) return std::nullopt;
    const auto* header = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(&message));
    if (header->family != AF_INET && header->family != AF_INET6) return std::nullopt;
    const auto attributes = Attributes::parse(message, sizeof(fib_rule_hdr), FRA_MAX,
                                              {{FRA_PRIORITY, MNL_TYPE_U32, 0}, {FRA_TABLE, MNL_TYPE_U32, 0}});
    if (!attributes) return std::nullopt;
    Rule rule{header->family == AF_INET ? Family::v4 : Family::v6, attributes->u32(FRA_PRIORITY).value_or(0),
              attributes->u32(FRA_TABLE).value_or(header->table)};
    return rule;
}

void ensure_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table) {
    // With NLM_F_EXCL the kernel refuses an identical rule (EEXIST) instead of adding a
    // duplicate, which is exactly "already there".
    MessageBuilder message(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
    build_rule_message(message, family, priority, table);
    socket.execute(message.header(), describe("RTM_NEWRULE", family, priority, table), {EEXIST});
}

void remove_rule(Socket& socket, Family family, std::uint32_t priority, std::uint32_t table) {
    MessageBuilder message(RTM_DELRULE, 0);
    build_rule_message(message, family, priority, table);
    socket.execute(message.header(), describe("RTM_DELRULE", family, priority, table), {ENOENT});
}

}  // namespace anycast::common::netlink
