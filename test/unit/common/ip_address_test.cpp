#include "common/ip_address.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string_view>
#include <unordered_set>

using anycast::common::Family;
using anycast::common::IpAddress;
using anycast::common::Prefix;

TEST_CASE("IP addresses parse and print canonically", "[unit]") {
    struct Case {
        const char* input;
        const char* canonical;
        Family family;
    };
    const Case cases[] = {
        {"10.255.53.53", "10.255.53.53", Family::v4},
        {"0.0.0.0", "0.0.0.0", Family::v4},
        {"fd00:255::53", "fd00:255::53", Family::v6},
        {"FD00:0255:0000:0000:0000:0000:0000:0053", "fd00:255::53", Family::v6},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", Family::v6},
        {"::1", "::1", Family::v6},
        {"::ffff:10.0.0.1", "::ffff:10.0.0.1", Family::v6},
    };
    for (const auto& c : cases) {
        INFO(c.input);
        auto ip = IpAddress::parse(c.input);
        REQUIRE(ip);
        CHECK(ip->to_string() == c.canonical);
        CHECK(ip->family() == c.family);
        CHECK(Prefix::host(*ip).length() == (c.family == Family::v4 ? 32u : 128u));
    }
}

TEST_CASE("invalid IP addresses are refused", "[unit]") {
    for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1/32", " 10.0.0.1", "fd00::1%eth0", "fd00:::1", "hello",
                            "1.2.3.4.5", "[::1]", "010.0.0.1x"}) {
        INFO(bad);
        CHECK_FALSE(IpAddress::parse(bad));
    }
    // inet_pton would stop at the NUL and read the part before it.
    using namespace std::string_view_literals;
    CHECK_FALSE(IpAddress::parse("10.0.0.1\0junk"sv));
    CHECK_FALSE(IpAddress::parse("fd00::1\0"sv));
    CHECK_FALSE(Prefix::parse("10.0.0.0\0x/8"sv));
}

TEST_CASE("prefixes parse, refuse host bits and check containment", "[unit]") {
    auto p = Prefix::parse("10.255.0.0/16");
    REQUIRE(p);
    CHECK(p->to_string() == "10.255.0.0/16");
    CHECK(p->contains(*IpAddress::parse("10.255.53.53")));
    CHECK_FALSE(p->contains(*IpAddress::parse("10.254.53.53")));
    CHECK_FALSE(p->contains(*IpAddress::parse("fd00::1")));
    CHECK(p->contains(*Prefix::parse("10.255.53.0/24")));
    CHECK_FALSE(p->contains(*Prefix::parse("10.0.0.0/8")));

    auto v6 = Prefix::parse("fd00:255::/48");
    REQUIRE(v6);
    CHECK(v6->contains(*IpAddress::parse("fd00:255::53")));
    CHECK_FALSE(v6->contains(*IpAddress::parse("fd00:256::53")));

    std::string why;
    CHECK_FALSE(Prefix::parse("10.255.53.53/16", &why));
    CHECK(why == "host bits set (did you mean 10.255.0.0/16?)");
    CHECK_FALSE(Prefix::parse("10.0.0.0/33", &why));
    CHECK(why == "bad prefix length");
    CHECK_FALSE(Prefix::parse("10.0.0.0/", &why));
    CHECK_FALSE(Prefix::parse("10.0.0.0/8x", &why));
    CHECK_FALSE(Prefix::parse("nope/8", &why));
    CHECK(why == "not an IP address");

    auto host = Prefix::parse("10.1.2.3");
    REQUIRE(host);
    CHECK(host->is_host());
    CHECK(Prefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("1.2.3.4")));
    CHECK(Prefix::parse("::/0")->contains(*IpAddress::parse("fd00::1")));
}

TEST_CASE("containment compares exactly the prefix's bits, also within a byte", "[unit]") {
    struct Case {
        const char* prefix;
        const char* address;
        bool inside;
    };
    const Case cases[] = {
        {"10.192.0.0/10", "10.192.0.1", true},
        {"10.192.0.0/10", "10.255.255.255", true},
        {"10.192.0.0/10", "10.191.255.255", false},
        {"10.192.0.0/10", "11.192.0.1", false},
        {"10.0.0.0/8", "10.1.2.3", true},
        {"10.1.2.3/32", "10.1.2.3", true},
        {"10.1.2.3/32", "10.1.2.2", false},
        {"0.0.0.0/0", "203.0.113.9", true},
        {"10.1.2.0/31", "10.1.2.1", true},
        {"10.1.2.0/31", "10.1.2.2", false},
        {"fe80::/10", "febf::1", true},
        {"fe80::/10", "fec0::1", false},
        {"fd00:255::/48", "fd00:255:0:ffff::1", true},
        {"fd00:255::/47", "fd00:255:1::1", true},
        {"fd00:255::/47", "fd00:255:2::1", false},
        {"::/0", "fd00::1", true},
        {"fd00::1/128", "fd00::1", true},
        {"fd00::1/128", "fd00::2", false},
        {"fd00::/8", "10.0.0.1", false},
        {"0.0.0.0/0", "::", false},
    };
    for (const auto& c : cases) {
        INFO(c.prefix << " contains " << c.address);
        const auto prefix = Prefix::parse(c.prefix);
        const auto address = IpAddress::parse(c.address);
        REQUIRE(prefix);
        REQUIRE(address);
        CHECK(prefix->contains(*address) == c.inside);
    }
}

TEST_CASE("addresses and prefixes order and hash so they can key maps", "[unit]") {
    std::set<IpAddress> ordered{*IpAddress::parse("fd00::1"), *IpAddress::parse("10.0.0.2"),
                                *IpAddress::parse("10.0.0.10"), *IpAddress::parse("10.0.0.2")};
    REQUIRE(ordered.size() == 3);
    auto it = ordered.begin();
    CHECK((it++)->to_string() == "10.0.0.2");
    CHECK((it++)->to_string() == "10.0.0.10");
    CHECK((it++)->to_string() == "fd00::1");

    std::unordered_set<Prefix> prefixes{*Prefix::parse("10.0.0.0/8"), *Prefix::parse("10.0.0.0/16"),
                                        *Prefix::parse("10.0.0.0/8")};
    CHECK(prefixes.size() == 2);
    CHECK(std::hash<IpAddress>{}(*IpAddress::parse("10.0.0.1")) ==
          std::hash<IpAddress>{}(*IpAddress::parse("10.0.0.1")));
}
