#include "common/config/bgp_settings_loader.hpp"

#include "common/config/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>

namespace anycast::common {

namespace {

constexpr std::int64_t k_max_asn = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t k_as_trans = 23456;  // RFC 6793: stands for a 4-byte AS, never a real one

std::uint32_t read_asn(const JsonReader& field) {
    const auto asn = field.as_int(1, k_max_asn);
    if (asn == k_as_trans) field.fail("23456 is AS_TRANS (RFC 6793), not an AS number");
    return static_cast<std::uint32_t>(asn);
}

// A name becomes part of a BIRD symbol: nothing but letters, digits and '_', first a letter.
std::string read_name(const JsonReader& field) {
    std::string name = field.as_string();
    const bool symbol = !name.empty() && name.size() <= 32 && std::isalpha(static_cast<unsigned char>(name[0])) &&
                        std::all_of(name.begin(), name.end(),
                                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!symbol) field.fail("a peer name is 1 to 32 letters, digits or '_', starting with a letter");
    return name;
}

// TCP-MD5 keys are at most 80 bytes (RFC 2385 via Linux's TCP_MD5SIG_MAXKEYLEN); the key is
// written into bird.conf in double quotes, so no quote, backslash or control byte.
std::string read_password(const JsonReader& peer) {
    const auto field = peer.member("password");
    if (!field) return {};
    std::string password = field->as_string();
    if (password.size() > 80) field->fail("at most 80 bytes (TCP-MD5)");
    for (const char c : password) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte > 0x7e || c == '"' || c == '\\') {
            field->fail("printable ASCII only, without '\"' or '\\'");
        }
    }
    return password;
}

IpAddress read_peer_address(const JsonReader& field) {
    const IpAddress address = field.as_ip();
    // A link-local peer would also need its interface named, which this config does not carry.
    if (const char* kind = special_address_kind(address)) {
        field.fail(fmt::format("{} is {}, not a BGP peer", address.to_string(), kind));
    }
    return address;
}

BgpPeer read_peer(const JsonReader& reader) {
    reader.as_object();
    BgpPeer peer;
    peer.name = read_name(reader.required("name"));
    peer.address = read_peer_address(reader.required("address"));
    peer.asn = read_asn(reader.required("asn"));
    peer.password = read_password(reader);
    peer.bfd = reader.bool_or("bfd", peer.bfd);
    peer.graceful_restart = reader.bool_or("gracefulRestart", peer.graceful_restart);
    // RFC 4271: a hold time is 0 (no keepalives, which we do not offer) or at least 3 s.
    peer.hold_seconds = static_cast<int>(reader.int_or("holdSeconds", peer.hold_seconds, 3, 65535));
    peer.multihop = static_cast<int>(reader.int_or("multihop", peer.multihop, 0, 255));
    peer.export_limit = static_cast<int>(reader.int_or("exportLimit", peer.export_limit, 0, 1'000'000));
    return peer;
}

// "a:b" or "a:b:c" (`parts` numbers, each at most `max`), as BIRD writes communities.
template <typename T, std::size_t N>
std::array<T, N> read_community(const JsonReader& field, std::uint64_t max) {
    const std::string text = field.as_string();
    std::array<T, N> parts{};
    std::size_t at = 0;
    for (std::size_t i = 0; i < N; ++i) {
        const std::size_t end = i + 1 < N ? text.find(':', at) : text.size();
        const std::string part = end == std::string::npos ? "" : text.substr(at, end - at);
        std::uint64_t value = 0;
        const bool digits = !part.empty() && part.size() <= 10 &&
                            std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits) value = std::stoull(part);
        if (!digits || value > max) {
            field.fail(N == 2 ? "a community is \"asn:value\", each 0-65535"
                              : "a large community is \"global:local1:local2\", each 0-4294967295");
        }
        parts[i] = static_cast<T>(value);
        at = end + 1;
    }
    return parts;
}

PrefixAttributes read_attributes(const std::string& key, const JsonReader& reader) {
    reader.as_object();
    PrefixAttributes attributes;
    const auto prefix = Prefix::parse(key);
    if (!prefix) reader.fail("not an IP prefix: \"" + key + "\"");
    attributes.prefix = *prefix;
    if (const auto list = reader.member("communities")) {
        for (const auto& element : list->elements()) {
            attributes.communities.push_back(read_community<std::uint16_t, 2>(element, 0xffff));
        }
    }
    if (const auto list = reader.member("largeCommunities")) {
        for (const auto& element : list->elements()) {
            attributes.large_communities.push_back(read_community<std::uint32_t, 3>(element, 0xffffffffULL));
        }
    }
    constexpr std::int64_t k_u32 = std::numeric_limits<std::uint32_t>::max();
    if (const auto field = reader.member("localPreference")) {
        attributes.local_preference = static_cast<std::uint32_t>(field->as_int(0, k_u32));
    }
    if (const auto field = reader.member("med")) attributes.med = static_cast<std::uint32_t>(field->as_int(0, k_u32));
    attributes.prepend = static_cast<int>(reader.int_or("prepend", 0, 0, 8));
    return attributes;
}

}  // namespace

BgpSettings parse_bgp(const JsonReader& reader) {
    reader.as_object();
    BgpSettings bgp;
    bgp.asn = read_asn(reader.required("asn"));
    if (const auto router_id = reader.member("routerId")) {
        bgp.router_id = router_id->as_ip();
        if (!bgp.router_id->is_v4() || *bgp.router_id == *IpAddress::parse("0.0.0.0")) {
            router_id->fail("a router ID is a non-zero IPv4 address (also on IPv6-only nodes)");
        }
    }
    std::set<std::string> names;
    std::set<IpAddress> addresses;
    const auto peers = reader.member("peers");
    for (const auto& element : peers ? peers->elements() : std::vector<JsonReader>{}) {
        BgpPeer peer = read_peer(element);
        if (!names.insert(peer.name).second) element.required("name").fail("a second peer named " + peer.name);
        if (!addresses.insert(peer.address).second) {
            element.required("address").fail("a second peer at " + peer.address.to_string());
        }
        bgp.peers.push_back(std::move(peer));
    }
    if (const auto prefixes = reader.member("prefixes")) {
        for (const auto& [key, value] : prefixes->members()) bgp.prefixes.push_back(read_attributes(key, value));
        std::sort(bgp.prefixes.begin(), bgp.prefixes.end(), [](const PrefixAttributes& a, const PrefixAttributes& b) {
            if (a.prefix.length() != b.prefix.length()) return a.prefix.length() > b.prefix.length();
            return a.prefix < b.prefix;
        });
        for (std::size_t i = 1; i < bgp.prefixes.size(); ++i) {
            if (bgp.prefixes[i].prefix == bgp.prefixes[i - 1].prefix) {
                prefixes->fail("two entries for " + bgp.prefixes[i].prefix.to_string());
            }
        }
    }
    return bgp;
}

}  // namespace anycast::common
