// Building one netlink request: a header, a family header and attributes, with bounds
// checks (libmnl's mnl_attr_put does none).
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace anycast::common {
class IpAddress;
}

namespace anycast::common::netlink {

class MessageBuilder {
public:
    // Room for one link, address, rule or lookup request. A route is sized to its next hops
    // (route_message_capacity in route_message.hpp): a multipath route may hold hundreds.
    static constexpr std::size_t k_default_capacity = 512;

    // The capacity is fixed here: nests and reserved records are pointers into the buffer.
    MessageBuilder(std::uint16_t type, std::uint16_t flags, std::size_t capacity = k_default_capacity);
    MessageBuilder(const MessageBuilder&) = delete;
    MessageBuilder& operator=(const MessageBuilder&) = delete;

    // The family header (rtmsg, ifaddrmsg, ...), zeroed; call once, right after construction.
    template <typename T>
    T& family_header() {
        return *static_cast<T*>(put_extra_header(sizeof(T)));
    }

    void put(std::uint16_t type, const void* data, std::size_t length);
    void put_u8(std::uint16_t type, std::uint8_t value);
    void put_u32(std::uint16_t type, std::uint32_t value);
    void put_string(std::uint16_t type, std::string_view value);
    void put_address(std::uint16_t type, const IpAddress& address);

    // A nested attribute (RTA_MULTIPATH); close it with end_nest.
    nlattr* begin_nest(std::uint16_t type);
    void end_nest(nlattr* nest);
    // Reserves `length` zeroed bytes at the tail, aligned (an rtnexthop inside a nest).
    void* reserve(std::size_t length);
    // Bytes from `start` (inside this message) to the current tail: the length of an
    // rtnexthop once its attributes are put.
    std::size_t length_since(const void* start) const;

    std::size_t capacity() const { return buffer_.size(); }
    nlmsghdr& header() { return *reinterpret_cast<nlmsghdr*>(buffer_.data()); }
    const nlmsghdr& header() const { return *reinterpret_cast<const nlmsghdr*>(buffer_.data()); }

private:
    void* put_extra_header(std::size_t length);
    void ensure_room(std::size_t length) const;

    std::vector<std::uint8_t> buffer_;  // zeroed; operator new aligns it beyond NLMSG_ALIGNTO
};

}  // namespace anycast::common::netlink
