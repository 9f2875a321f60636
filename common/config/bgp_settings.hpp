// The node config's `bgp` section (issue 17): the node's BGP speaker when BIRD runs beside
// serve with a generated config (`flock-anycast bird-config`, reconciler/bird/bird_conf_render).
// Absent → no generated config: the operator's own BIRD includes the rendered sets.
#pragma once

#include "common/ip_address.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace anycast::common {

struct BgpPeer {
    std::string name;   // a BIRD symbol: letters, digits, '_'; the protocol is bgp_<name>
    IpAddress address;  // IPv4 → an IPv4 session (IPv4 prefixes), IPv6 → an IPv6 session
    std::uint32_t asn = 0;
    std::string password;  // TCP-MD5; empty: none
    bool bfd = false;
    bool graceful_restart = false;
    int hold_seconds = 90;  // 3..65535
    int multihop = 0;       // 0: directly connected; else the TTL, 1..255
    int export_limit = 0;   // prefixes announced at most (more are held back); 0: no limit

    friend bool operator==(const BgpPeer&, const BgpPeer&) = default;
};

// Attributes the operator gives the announcements of one prefix (`bgp.prefixes`), never the
// pod: every installed prefix inside `prefix` gets them, the most specific entry winning.
struct PrefixAttributes {
    Prefix prefix;
    std::vector<std::array<std::uint16_t, 2>> communities;        // RFC 1997 "65000:53"
    std::vector<std::array<std::uint32_t, 3>> large_communities;  // RFC 8092 "65000:1:2"
    std::optional<std::uint32_t> local_preference;                // iBGP only
    std::optional<std::uint32_t> med;
    int prepend = 0;  // our AS added this many more times to the AS path, 0..8

    friend bool operator==(const PrefixAttributes&, const PrefixAttributes&) = default;
};

struct BgpSettings {
    std::uint32_t asn = 0;  // 0: no `bgp` section
    // IPv4; absent: BIRD picks one of the node's own IPv4 addresses (a DaemonSet shares one
    // config between nodes, and router IDs must differ).
    std::optional<IpAddress> router_id;
    std::vector<BgpPeer> peers;  // may be empty with a BIRD of the operator's own
    // Most specific first (then by address): the order the rendered function tests them in.
    std::vector<PrefixAttributes> prefixes;

    bool enabled() const { return asn != 0; }

    friend bool operator==(const BgpSettings&, const BgpSettings&) = default;
};

}  // namespace anycast::common
