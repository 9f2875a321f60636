#include "common/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/container_hash/hash.hpp>
#include <charconv>
#include <cstring>

namespace anycast::common {

int address_family(Family family) { return family == Family::v4 ? AF_INET : AF_INET6; }

int family_number(Family family) { return static_cast<int>(family); }

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // inet_pton needs a NUL-terminated string; longer input cannot be an address. An embedded
    // NUL would end the string early: "10.0.0.1\0junk" (a JSON "\u0000") read as 10.0.0.1
    // (found while writing the fuzz targets; test/fuzz/regressions/record/).
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';

    IpAddress result;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, result.bytes_.data()) != 1) return std::nullopt;
        result.family_ = Family::v4;
    } else {
        if (inet_pton(AF_INET6, buf, result.bytes_.data()) != 1) return std::nullopt;
        result.family_ = Family::v6;
    }
    return result;
}

IpAddress IpAddress::from_bytes(Family family, const void* bytes) {
    IpAddress result;
    result.family_ = family;
    std::memcpy(result.bytes_.data(), bytes, family == Family::v4 ? 4 : 16);
    return result;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(address_family(family_), bytes_.data(), buf, sizeof(buf));
    return buf;
}

namespace {

// Clears every bit from `length` on; returns whether any was set.
bool clear_host_bits(std::uint8_t* bytes, std::size_t size, unsigned length) {
    bool any_set = false;
    for (std::size_t i = 0; i < size; ++i) {
        const unsigned first_bit = static_cast<unsigned>(i) * 8;
        std::uint8_t keep = 0;
        if (first_bit + 8 <= length) {
            keep = 0xff;
        } else if (first_bit < length) {
            keep = static_cast<std::uint8_t>(0xff << (8 - (length - first_bit)));
        }
        if (bytes[i] & ~keep) any_set = true;
        bytes[i] &= keep;
    }
    return any_set;
}

}  // namespace

std::optional<Prefix> Prefix::parse(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<Prefix> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return fail("not an IP address");
    if (slash == std::string_view::npos) return Prefix::host(*address);

    const auto len_text = text.substr(slash + 1);
    unsigned length = 0;
    const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
    if (ec != std::errc{} || end != len_text.data() + len_text.size() || len_text.empty() ||
        length > address->max_prefix_len()) {
        return fail("bad prefix length");
    }
    Prefix masked = Prefix::masked(*address, length);
    if (masked.address_ != *address) {
        return fail("host bits set (did you mean " + masked.to_string() + "?)");
    }
    return masked;
}

Prefix Prefix::host(const IpAddress& address) { return Prefix(address, address.max_prefix_len()); }

Prefix Prefix::masked(const IpAddress& address, unsigned length) {
    std::uint8_t bytes[16];
    std::memcpy(bytes, address.data(), address.size());
    if (length > address.max_prefix_len()) length = address.max_prefix_len();
    clear_host_bits(bytes, address.size(), length);
    return Prefix(IpAddress::from_bytes(address.family(), bytes), length);
}

bool Prefix::contains(const IpAddress& address) const {
    if (address.family() != family()) return false;
    // Compared in place, not through masked(): resolve asks this for every IP of every
    // record at each pass (a fifth of a readiness flip's CPU with 10 000 records). A prefix
    // never has host bits set (parse refuses them, masked and host clear them).
    const unsigned whole_bytes = length_ / 8;
    const unsigned rest_bits = length_ % 8;
    if (std::memcmp(address.data(), address_.data(), whole_bytes) != 0) return false;
    if (rest_bits == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - rest_bits));
    return (address.data()[whole_bytes] & mask) == address_.data()[whole_bytes];
}

bool Prefix::contains(const Prefix& other) const {
    return other.family() == family() && other.length_ >= length_ && contains(other.address_);
}

std::string Prefix::to_string() const { return address_.to_string() + "/" + std::to_string(length_); }

std::size_t hash_value(const IpAddress& address) {
    std::size_t seed = static_cast<std::size_t>(address.family());
    boost::hash_range(seed, address.data(), address.data() + address.size());
    return seed;
}

std::size_t hash_value(const Prefix& prefix) {
    std::size_t seed = hash_value(prefix.address());
    boost::hash_combine(seed, prefix.length());
    return seed;
}

}  // namespace anycast::common
