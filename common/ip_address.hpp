// IP addresses and prefixes, IPv4 and IPv6, in one value type each.
#pragma once

#include <fmt/format.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace anycast::common {

enum class Family : std::uint8_t { v4 = 4, v6 = 6 };

// The AF_* constant for a family (AF_INET / AF_INET6).
int address_family(Family family);
// 4 or 6, for logs and records.
int family_number(Family family);

class IpAddress {
public:
    // Parses "10.0.0.1" or "fd00::1" (no brackets, no zone, no prefix); nullopt when invalid.
    static std::optional<IpAddress> parse(std::string_view text);
    // Builds from raw network-order bytes: 4 for v4, 16 for v6.
    static IpAddress from_bytes(Family family, const void* bytes);

    IpAddress() = default;

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::v4; }
    // Network-order bytes; size() of them are meaningful.
    const std::uint8_t* data() const { return bytes_.data(); }
    std::size_t size() const { return is_v4() ? 4 : 16; }
    // The host prefix: /32 or /128.
    unsigned max_prefix_len() const { return is_v4() ? 32 : 128; }

    // Canonical text: dotted quad, or RFC 5952 for IPv6.
    std::string to_string() const;

    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;

private:
    Family family_ = Family::v4;
    std::array<std::uint8_t, 16> bytes_{};
};

class Prefix {
public:
    // Parses "10.0.0.0/8" or "fd00::/48". A bare address is a host prefix. Host bits set
    // ("10.0.0.1/8") are an error, not silently masked: in a policy they are a typo.
    static std::optional<Prefix> parse(std::string_view text, std::string* why = nullptr);
    static Prefix host(const IpAddress& address);
    // Masks host bits away.
    static Prefix masked(const IpAddress& address, unsigned length);

    Prefix() = default;

    const IpAddress& address() const { return address_; }
    unsigned length() const { return length_; }
    Family family() const { return address_.family(); }
    bool is_host() const { return length_ == address_.max_prefix_len(); }

    bool contains(const IpAddress& address) const;
    bool contains(const Prefix& other) const;

    std::string to_string() const;

    friend auto operator<=>(const Prefix&, const Prefix&) = default;
    friend bool operator==(const Prefix&, const Prefix&) = default;

private:
    Prefix(IpAddress address, unsigned length) : address_(address), length_(length) {}
    IpAddress address_;
    unsigned length_ = 0;
};

std::size_t hash_value(const IpAddress& address);
std::size_t hash_value(const Prefix& prefix);

}  // namespace anycast::common

template <>
struct std::hash<anycast::common::IpAddress> {
    std::size_t operator()(const anycast::common::IpAddress& a) const { return anycast::common::hash_value(a); }
};
template <>
struct std::hash<anycast::common::Prefix> {
    std::size_t operator()(const anycast::common::Prefix& p) const { return anycast::common::hash_value(p); }
};

// fmt prints both as their canonical text ("{}" in fmt::format, log::kv and fmt::join). No
// format spec: a width or fill would be a compile-time error (fmt checks format strings).
template <>
struct fmt::formatter<anycast::common::IpAddress> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <typename FormatContext>
    auto format(const anycast::common::IpAddress& address, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "{}", address.to_string());
    }
};

template <>
struct fmt::formatter<anycast::common::Prefix> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <typename FormatContext>
    auto format(const anycast::common::Prefix& prefix, FormatContext& ctx) const {
        return fmt::format_to(ctx.out(), "{}", prefix.to_string());
    }
};
