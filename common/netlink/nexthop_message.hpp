// Encoding and decoding of RTM_*NEXTHOP messages, without a socket (unit-testable).
#pragma once

#include "common/netlink/message.hpp"
#include "common/netlink/nexthop.hpp"

#include <optional>
#include <string>

namespace anycast::common::netlink {

// RTM_NEWNEXTHOP or RTM_DELNEXTHOP (by id alone, the header all zero) for `nexthop`, by the builder's type. A
// gateway: nh_family of the gateway, RTNH_F_ONLINK, NHA_OIF, NHA_GATEWAY. A group:
// NHA_GROUP (weight 1 each), NHA_GROUP_TYPE, and for a resilient one NHA_RES_GROUP with the
// bucket count and the idle timer (in USER_HZ ticks, as the kernel keeps it).
void build_nexthop_message(MessageBuilder& message, const Nexthop& nexthop);

// The capacity a MessageBuilder needs for build_nexthop_message: it grows with the members.
std::size_t nexthop_message_capacity(const Nexthop& nexthop);

// "id 7 via 10.0.0.2 dev 3" / "id 9 group 7/8 resilient buckets 128 idle 120s", for logs.
std::string describe_nexthop(const Nexthop& nexthop);
// The same after the request's name ("RTM_NEWNEXTHOP id 7 ..."), for errors.
std::string describe_nexthop_request(std::uint16_t type, const Nexthop& nexthop);

// Decodes RTM_NEWNEXTHOP/RTM_DELNEXTHOP; nullopt if malformed or without an id.
std::optional<Nexthop> parse_nexthop(const nlmsghdr& message);

}  // namespace anycast::common::netlink
