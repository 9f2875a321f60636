#include "common/netlink/attributes.hpp"

#include "common/ip_address.hpp"

#include <sys/socket.h>

#include <cstring>

namespace anycast::common::netlink {

namespace {

struct ParseContext {
    std::uint16_t max_type;
    std::initializer_list<AttributePolicy> policy;
    std::vector<const nlattr*>* table;
    bool malformed;
};

int store_attribute(const nlattr* attr, void* data) {
    auto& context = *static_cast<ParseContext*>(data);
    // Types newer than we know of are not ours to judge.
    if (mnl_attr_type_valid(attr, context.max_type) < 0) return MNL_CB_OK;
    const std::uint16_t type = mnl_attr_get_type(attr);
    for (const auto& rule : context.policy) {
        if (rule.type != type) continue;
        const int valid = rule.length != 0 ? mnl_attr_validate2(attr, rule.data_type, rule.length)
                                           : mnl_attr_validate(attr, rule.data_type);
        if (valid < 0) {
            context.malformed = true;
            return MNL_CB_ERROR;
        }
        (*context.table)[type] = attr;
        break;
    }
    return MNL_CB_OK;
}

}  // namespace

std::optional<Family> family_from(int address_family) {
    if (address_family == AF_INET) return Family::v4;
    if (address_family == AF_INET6) return Family::v6;
    return std::nullopt;
}

std::optional<Attributes> Attributes::parse(const nlmsghdr& message, std::size_t header_length, std::uint16_t max_type,
                                            std::initializer_list<AttributePolicy> policy) {
    // mnl_attr_parse walks from the aligned header end; the header itself must be there.
    if (mnl_nlmsg_get_payload_len(&message) < header_length) return std::nullopt;
    Attributes result;
    result.table_.assign(max_type + 1u, nullptr);
    ParseContext context{max_type, policy, &result.table_, false};
    if (mnl_attr_parse(&message, static_cast<unsigned>(header_length), store_attribute, &context) < 0 ||
        context.malformed) {
        return std::nullopt;
    }
    return result;
}

std::optional<Attributes> Attributes::parse_payload(const void* payload, std::size_t length, std::uint16_t max_type,
                                                    std::initializer_list<AttributePolicy> policy) {
    Attributes result;
    result.table_.assign(max_type + 1u, nullptr);
    ParseContext context{max_type, policy, &result.table_, false};
    if (mnl_attr_parse_payload(payload, length, store_attribute, &context) < 0 || context.malformed) {
        return std::nullopt;
    }
    return result;
}

const nlattr* Attributes::get(std::uint16_t type) const { return type < table_.size() ? table_[type] : nullptr; }

std::optional<std::uint32_t> Attributes::u32(std::uint16_t type) const {
    const nlattr* attr = get(type);
    if (!attr || mnl_attr_get_payload_len(attr) != sizeof(std::uint32_t)) return std::nullopt;
    return mnl_attr_get_u32(attr);
}

std::optional<std::string> Attributes::string(std::uint16_t type) const {
    const nlattr* attr = get(type);
    // Only NUL-terminated strings pass the policy; strnlen guards a policy that allowed more.
    if (!attr || mnl_attr_get_payload_len(attr) == 0) return std::nullopt;
    const auto* text = static_cast<const char*>(mnl_attr_get_payload(attr));
    return std::string(text, strnlen(text, mnl_attr_get_payload_len(attr)));
}

std::optional<IpAddress> Attributes::address(std::uint16_t type, Family family) const {
    const nlattr* attr = get(type);
    const std::size_t expected = family == Family::v4 ? 4 : 16;
    if (!attr || mnl_attr_get_payload_len(attr) != expected) return std::nullopt;
    return IpAddress::from_bytes(family, mnl_attr_get_payload(attr));
}

}  // namespace anycast::common::netlink
