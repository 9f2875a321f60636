// The anycast IP policy: namespace reservations, the addresses never allowed, and the
// loader refusing reservations that overlap. Table-driven, no root.
#include "common/config/node_config_loader.hpp"
#include "common/config/policy.hpp"
#include "common/json_reader.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace anycast::common;

namespace {

Prefix prefix(const char* text) { return *Prefix::parse(text); }
IpAddress ip(const char* text) { return *IpAddress::parse(text); }
NodeConfig parse(std::string_view text) { return parse_node_config(parse_json(text, "test"), "cfg.json"); }

// The documented example (docs/configuration.md): dns owns 10.255.53.0/24 and fd00:255:53::/64
// inside allowedPrefixes.
Policy documented_policy() {
    Policy policy;
    policy.allowed_prefixes = {prefix("10.255.0.0/16"), prefix("fd00:255::/48")};
    policy.namespaces["dns"] = {prefix("10.255.53.0/24"), prefix("fd00:255:53::/64")};
    return policy;
}

}  // namespace

TEST_CASE("a listed namespace's prefixes are its alone, IPv4 and IPv6", "[unit]") {
    struct Case {
        const char* ns;
        const char* ip;
        std::optional<std::string> refusal;
    };
    const std::vector<Case> cases = {
        {"dns", "10.255.53.53", std::nullopt},
        {"dns", "fd00:255:53::53", std::nullopt},
        {"web", "10.255.53.53", "10.255.53.53 is reserved for namespace dns (10.255.53.0/24, fd00:255:53::/64)"},
        {"web", "fd00:255:53::53", "fd00:255:53::53 is reserved for namespace dns (10.255.53.0/24, fd00:255:53::/64)"},
        {"web", "10.255.1.1", std::nullopt},
        {"web", "fd00:255::1", std::nullopt},
        {"dns", "10.255.1.1", "10.255.1.1 is outside the prefixes of namespace dns (10.255.53.0/24, fd00:255:53::/64)"},
        {"web", "10.1.1.1", "10.1.1.1 is outside policy.allowedPrefixes (10.255.0.0/16, fd00:255::/48)"},
    };
    const Policy policy = documented_policy();
    for (const auto& c : cases) {
        INFO(c.ns << " claims " << c.ip);
        CHECK(policy_refusal(policy, c.ns, ip(c.ip)) == c.refusal);
    }
}

TEST_CASE("may_claim_anything: whether a namespace's pods can ask for anything at all", "[unit]") {
    CHECK(may_claim_anything(documented_policy(), "dns"));
    CHECK(may_claim_anything(documented_policy(), "web"));
    CHECK_FALSE(may_claim_anything(Policy{}, "web"));  // the empty policy allows nothing
    Policy only_listed;
    only_listed.namespaces["dns"] = {prefix("10.255.53.0/24")};
    CHECK(may_claim_anything(only_listed, "dns"));
    CHECK_FALSE(may_claim_anything(only_listed, "web"));
    // Every allowed prefix reserved by listed namespaces: nothing left for the others.
    Policy covered = only_listed;
    covered.allowed_prefixes = {prefix("10.255.53.0/25"), prefix("10.255.53.128/25")};
    CHECK_FALSE(may_claim_anything(covered, "web"));
    covered.allowed_prefixes.push_back(prefix("fd00:255::/48"));
    CHECK(may_claim_anything(covered, "web"));
    Policy listed_empty;
    listed_empty.allowed_prefixes = {prefix("10.255.0.0/16")};
    listed_empty.namespaces["quarantined"] = {};
    CHECK_FALSE(may_claim_anything(listed_empty, "quarantined"));
}

TEST_CASE("addresses that are never an anycast service's are refused whatever the policy", "[unit]") {
    Policy everything;
    everything.allowed_prefixes = {prefix("0.0.0.0/0"), prefix("::/0")};
    everything.namespaces["all"] = {prefix("0.0.0.0/0"), prefix("::/0")};
    const std::vector<std::pair<const char*, const char*>> refused = {
        {"0.0.0.0", "the unspecified address"},
        {"127.0.0.1", "a loopback address"},
        {"127.255.0.9", "a loopback address"},
        {"224.0.0.1", "a multicast address"},
        {"239.255.255.250", "a multicast address"},
        {"169.254.10.1", "a link-local address"},
        {"255.255.255.255", "the broadcast address"},
        {"::", "the unspecified address"},
        {"::1", "a loopback address"},
        {"ff02::1", "a multicast address"},
        {"ff3e::8000:1", "a multicast address"},
        {"fe80::1", "a link-local address"},
        {"febf::1", "a link-local address"},
    };
    for (const auto& [address, what] : refused) {
        for (const char* ns : {"all", "other"}) {
            INFO(ns << " claims " << address);
            CHECK(policy_refusal(everything, ns, ip(address)) ==
                  std::string(address) + " is " + what + ", never an anycast address");
        }
    }
    for (const char* fine : {"10.1.1.1", "1.1.1.1", "223.255.255.255", "fec0::1", "2001:db8::1"}) {
        INFO(fine);
        CHECK(policy_refusal(everything, "all", ip(fine)) == std::nullopt);
    }
}

TEST_CASE("a config whose namespaces' prefixes overlap is refused, naming both", "[unit]") {
    const std::vector<std::pair<const char*, const char*>> overlapping = {
        {R"({"policy": {"namespaces": {"dns": ["10.255.53.0/24"], "web": ["10.255.0.0/16"]}}})",
         "cfg.json: policy.namespaces: dns's 10.255.53.0/24 overlaps web's 10.255.0.0/16: a listed namespace's "
         "prefixes are its alone"},
        {R"({"policy": {"namespaces": {"a": ["fd00:255::/48"], "b": ["10.9.0.0/16", "fd00:255:0:1::/64"]}}})",
         "cfg.json: policy.namespaces: a's fd00:255::/48 overlaps b's fd00:255:0:1::/64: a listed namespace's "
         "prefixes are its alone"},
        {R"({"policy": {"namespaces": {"a": ["10.1.0.0/16"], "b": ["10.1.0.0/16"]}}})",
         "cfg.json: policy.namespaces: a's 10.1.0.0/16 overlaps b's 10.1.0.0/16: a listed namespace's prefixes "
         "are its alone"},
    };
    for (const auto& [json, message] : overlapping) {
        INFO(json);
        CHECK_THROWS_WITH(parse(json), message);
    }
    const auto separate =
        parse(R"({"policy": {"namespaces": {"dns": ["10.255.53.0/24"], "web": ["10.255.54.0/24", "fd00::/64"]}}})");
    CHECK(overlapping_namespaces(separate.policy) == std::nullopt);
}
