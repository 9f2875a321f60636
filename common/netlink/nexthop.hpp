// Nexthop objects (RTM_*NEXTHOP; Linux 5.3+, resilient groups 5.13+): one gateway through one
// interface, or a group of such objects that routes point at by id (RTA_NH_ID). Dumps, and
// the changes that go to the kernel in one batch with the routes (common/netlink/change_batch).
#pragma once

#include "common/netlink/route.hpp"
#include "common/netlink/socket.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace anycast::common::netlink {

struct NexthopGroup {
    std::vector<std::uint32_t> members;  // nexthop ids, sorted; weight 1 each
    bool resilient = true;               // else a hash-threshold (mpath) group
    std::uint16_t buckets = 0;           // resilient only
    std::uint32_t idle_seconds = 0;      // resilient only
    friend bool operator==(const NexthopGroup&, const NexthopGroup&) = default;
};

struct Nexthop {
    std::uint32_t id = 0;
    int protocol = 0;  // nh_protocol: ours is routes.protocol
    // A gateway through an interface (always `onlink`, like our routes' hops), or a group.
    // Neither: something we never create (blackhole, device-only, fdb).
    std::optional<NextHop> hop;
    std::optional<NexthopGroup> group;
    friend bool operator==(const Nexthop&, const Nexthop&) = default;
};

// The nexthop objects of one network namespace, as far as we care.
struct NexthopTable {
    std::vector<Nexthop> ours;          // protocol == ours, sorted by id
    std::vector<std::uint32_t> others;  // everyone else's ids, sorted: never ours to take
    friend bool operator==(const NexthopTable&, const NexthopTable&) = default;
};

// Every nexthop object, split into ours (nh_protocol == `protocol`) and the others' ids. A
// kernel without nexthop objects (before 5.3) has none: an empty table, not an error.
// `expected_ours` is reserved up front (the caller's guess, e.g. the last count): grown by
// doubling, 40 000 objects briefly took twice their 3.2 MB.
NexthopTable dump_nexthops(Socket& socket, int protocol, std::size_t expected_ours = 0);

struct NexthopChange {
    // create: NLM_F_CREATE|NLM_F_EXCL, never taking over someone's id; replace:
    // NLM_F_REPLACE of one of ours (a resilient group keeps its bucket table and moves only
    // the buckets of members that left); remove: RTM_DELNEXTHOP (routes through it go too).
    enum class Kind { create, replace, remove } kind;
    Nexthop nexthop;
    friend bool operator==(const NexthopChange&, const NexthopChange&) = default;
};

// A change to a nexthop object held elsewhere, as the batch reads it.
struct NexthopChangeRef {
    NexthopChange::Kind kind;
    const Nexthop* nexthop;
};

}  // namespace anycast::common::netlink
