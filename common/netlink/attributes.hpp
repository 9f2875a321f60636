// Validated attribute parsing: every attribute the caller asks for is checked with
// mnl_attr_type_valid and mnl_attr_validate/_validate2 before it is read; nothing trusts a
// length the kernel sent.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace anycast::common {
class IpAddress;
enum class Family : std::uint8_t;
}  // namespace anycast::common

namespace anycast::common::netlink {

// Whether `message` lies wholly inside the `remaining` bytes of a receive buffer, its padding
// to NLMSG_ALIGN included (mnl_attr_parse walks up to the aligned end): mnl_nlmsg_ok without
// its hole. libmnl 1.0.4 compares (int)nlmsg_len <= remaining, so a length of 2^31 or more,
// negative as an int, passes, and walking on reads far outside the buffer (found by the
// netlink fuzz target, test/fuzz/regressions/netlink/). The kernel pads every message it
// sends, so nothing real is refused.
inline bool message_fits(const nlmsghdr* message, int remaining) {
    if (remaining < static_cast<int>(sizeof(nlmsghdr))) return false;
    const std::size_t length = message->nlmsg_len;
    const std::size_t padded = (length + NLMSG_ALIGNTO - 1) & ~std::size_t{NLMSG_ALIGNTO - 1};
    return length >= sizeof(nlmsghdr) && padded <= static_cast<std::size_t>(remaining);
}

// How one attribute type must look: an mnl data type, or MNL_TYPE_BINARY with an exact
// length (0 = any length, e.g. a nest or an address checked later).
struct AttributePolicy {
    std::uint16_t type;
    mnl_attr_data_type data_type;
    std::size_t length;
};

// The Family of an AF_INET/AF_INET6 value from a message header; nullopt for others.
std::optional<Family> family_from(int address_family);

class Attributes {
public:
    // Parses the attributes after a family header of `header_length` bytes. Attributes not in
    // the policy are ignored; returns nullopt if one in the policy is malformed.
    static std::optional<Attributes> parse(const nlmsghdr& message, std::size_t header_length, std::uint16_t max_type,
                                           std::initializer_list<AttributePolicy> policy);
    // Same for the attributes nested in `nest` (or in an arbitrary payload).
    static std::optional<Attributes> parse_payload(const void* payload, std::size_t length, std::uint16_t max_type,
                                                   std::initializer_list<AttributePolicy> policy);

    const nlattr* get(std::uint16_t type) const;
    bool has(std::uint16_t type) const { return get(type) != nullptr; }
    std::optional<std::uint32_t> u32(std::uint16_t type) const;
    std::optional<std::string> string(std::uint16_t type) const;
    // An address of `family`; nullopt if absent or of the wrong size.
    std::optional<IpAddress> address(std::uint16_t type, Family family) const;

private:
    std::vector<const nlattr*> table_;
};

}  // namespace anycast::common::netlink
