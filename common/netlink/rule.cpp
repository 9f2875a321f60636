#include "common/netlink/rule.hpp"

#include "common/netlink/message.hpp"

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
