#include "common/netlink/message.hpp"

#include "common/ip_address.hpp"

#include <libmnl/libmnl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace anycast::common::netlink {

MessageBuilder::MessageBuilder(std::uint16_t type, std::uint16_t flags, std::size_t capacity)
    : buffer_(std::max<std::size_t>(capacity, NLMSG_HDRLEN)) {
    nlmsghdr* header = mnl_nlmsg_put_header(buffer_.data());
    header->nlmsg_type = type;
    header->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
}

void MessageBuilder::ensure_room(std::size_t length) const {
    if (header().nlmsg_len + MNL_ALIGN(length) > capacity()) {
        throw std::length_error("netlink request larger than " + std::to_string(capacity()) + " bytes");
    }
}

void* MessageBuilder::put_extra_header(std::size_t length) {
    ensure_room(length);
    return mnl_nlmsg_put_extra_header(&header(), length);
}

void MessageBuilder::put(std::uint16_t type, const void* data, std::size_t length) {
    if (!mnl_attr_put_check(&header(), capacity(), type, length, data)) {
        throw std::length_error("netlink attribute " + std::to_string(type) + " does not fit the request");
    }
}

void MessageBuilder::put_u8(std::uint16_t type, std::uint8_t value) { put(type, &value, sizeof(value)); }

void MessageBuilder::put_u32(std::uint16_t type, std::uint32_t value) { put(type, &value, sizeof(value)); }

void MessageBuilder::put_string(std::uint16_t type, std::string_view value) {
    // NUL-terminated, as the kernel's NLA_NUL_STRING/NLA_STRING policies accept.
    std::string copy(value);
    put(type, copy.c_str(), copy.size() + 1);
}

void MessageBuilder::put_address(std::uint16_t type, const IpAddress& address) {
    put(type, address.data(), address.size());
}

nlattr* MessageBuilder::begin_nest(std::uint16_t type) {
    nlattr* nest = mnl_attr_nest_start_check(&header(), capacity(), type);
    if (!nest) throw std::length_error("netlink nest " + std::to_string(type) + " does not fit the request");
    return nest;
}

void MessageBuilder::end_nest(nlattr* nest) {
    // nla_len is 16 bits: a longer nest would be sent with a wrapped, wrong length.
    if (length_since(nest) > UINT16_MAX) {
        throw std::length_error("netlink nest " + std::to_string(nest->nla_type) + " of " +
                                std::to_string(length_since(nest)) + " bytes exceeds the 65535 an attribute can hold");
    }
    mnl_attr_nest_end(&header(), nest);
}

void* MessageBuilder::reserve(std::size_t length) {
    ensure_room(length);
    void* tail = mnl_nlmsg_get_payload_tail(&header());
    std::memset(tail, 0, MNL_ALIGN(length));
    header().nlmsg_len += MNL_ALIGN(length);
    return tail;
}

std::size_t MessageBuilder::length_since(const void* start) const {
    const auto* tail = static_cast<const std::uint8_t*>(mnl_nlmsg_get_payload_tail(&header()));
    return static_cast<std::size_t>(tail - static_cast<const std::uint8_t*>(start));
}

}  // namespace anycast::common::netlink
