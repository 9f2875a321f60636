// The node config's `bgp` section (common/config/bgp_settings_loader): what it reads, its
// defaults, and every value that could break or extend the generated bird.conf refused,
// naming the field.
#include "common/config/node_config_loader.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace anycast::common;
namespace json = boost::json;

namespace {

json::object peer(json::object fields = {}) {
    json::object base{{"name", "tor1"}, {"address", "192.0.2.2"}, {"asn", 65000}};
    for (const auto& [key, value] : fields) base[key] = value;
    return base;
}

json::object bgp(json::array peers = {peer()}) {
    return {{"asn", 65001}, {"routerId", "192.0.2.1"}, {"peers", std::move(peers)}};
}

json::object attributes(const std::string& prefix, json::object fields) {
    return {{"asn", 65001}, {"prefixes", json::object{{prefix, std::move(fields)}}}};
}

NodeConfig load(const json::value& bgp_section) {
    return parse_node_config(json::object{{"bgp", bgp_section}}, "config.json");
}

}  // namespace

TEST_CASE("a bgp section is read with its defaults", "[unit]") {
    CHECK_FALSE(parse_node_config(json::object{}, "config.json").bgp.enabled());
    const auto config = load(bgp({peer(), peer({{"name", "tor6"},
                                                {"address", "2001:db8::2"},
                                                {"password", "s3cret"},
                                                {"bfd", true},
                                                {"gracefulRestart", true},
                                                {"holdSeconds", 9},
                                                {"multihop", 2},
                                                {"exportLimit", 1000}})}));
    REQUIRE(config.bgp.enabled());
    CHECK(config.bgp.asn == 65001);
    REQUIRE(config.bgp.router_id);
    CHECK(config.bgp.router_id->to_string() == "192.0.2.1");
    REQUIRE(config.bgp.peers.size() == 2);
    const BgpPeer& plain = config.bgp.peers[0];
    CHECK(plain.name == "tor1");
    CHECK(plain.address.to_string() == "192.0.2.2");
    CHECK(plain.asn == 65000);
    CHECK(plain.password.empty());
    CHECK_FALSE(plain.bfd);
    CHECK_FALSE(plain.graceful_restart);
    CHECK(plain.hold_seconds == 90);
    CHECK(plain.multihop == 0);
    CHECK(plain.export_limit == 0);
    const BgpPeer& full = config.bgp.peers[1];
    CHECK_FALSE(full.address.is_v4());
    CHECK(full.password == "s3cret");
    CHECK(full.bfd);
    CHECK(full.graceful_restart);
    CHECK(full.hold_seconds == 9);
    CHECK(full.multihop == 2);
    CHECK(full.export_limit == 1000);
}

TEST_CASE("bgp.prefixes are read most specific first", "[unit]") {
    const auto config = load(json::object{
        {"asn", 65001},
        {"prefixes", json::object{{"10.255.0.0/16", json::object{{"med", 1}}},
                                  {"10.255.53.0/24", json::object{{"communities", json::array{"65000:53"}},
                                                                  {"largeCommunities", json::array{"65000:1:2"}},
                                                                  {"localPreference", 200},
                                                                  {"prepend", 2}}}}}});
    REQUIRE(config.bgp.prefixes.size() == 2);
    const PrefixAttributes& first = config.bgp.prefixes[0];
    CHECK(first.prefix.to_string() == "10.255.53.0/24");
    CHECK(first.communities == std::vector<std::array<std::uint16_t, 2>>{{65000, 53}});
    CHECK(first.large_communities == std::vector<std::array<std::uint32_t, 3>>{{65000, 1, 2}});
    CHECK(first.local_preference == 200u);
    CHECK_FALSE(first.med);
    CHECK(first.prepend == 2);
    CHECK(config.bgp.prefixes[1].med == 1u);
    CHECK(config.bgp.peers.empty());  // a BIRD of the operator's own needs none
}

TEST_CASE("without routerId BIRD picks the router ID", "[unit]") {
    const auto config = load(json::object{{"asn", 65001}, {"peers", json::array{peer()}}});
    CHECK_FALSE(config.bgp.router_id);
}

TEST_CASE("a bad bgp section is refused, naming the field", "[unit]") {
    const auto [section, message] = GENERATE(table<json::value, std::string>({
        {json::array{}, "config.json: bgp: expected an object"},
        {json::object{{"routerId", "192.0.2.1"}, {"peers", json::array{peer()}}}, "bgp.asn: missing"},
        {json::object{{"asn", 0}, {"routerId", "192.0.2.1"}, {"peers", json::array{peer()}}}, "bgp.asn"},
        {json::object{{"asn", 23456}, {"routerId", "192.0.2.1"}, {"peers", json::array{peer()}}}, "AS_TRANS"},
        {json::object{{"asn", 4294967296}, {"routerId", "192.0.2.1"}, {"peers", json::array{peer()}}}, "bgp.asn"},
        {json::object{{"asn", 65001}, {"routerId", "2001:db8::1"}, {"peers", json::array{peer()}}}, "bgp.routerId"},
        {json::object{{"asn", 65001}, {"routerId", "0.0.0.0"}, {"peers", json::array{peer()}}}, "bgp.routerId"},
        {bgp({peer({{"name", "tor 1"}})}), "bgp.peers[0].name"},
        {bgp({peer({{"name", "1tor"}})}), "bgp.peers[0].name"},
        {bgp({peer({{"name", "tor1; protocol"}})}), "bgp.peers[0].name"},
        {bgp({peer({{"name", std::string(33, 'a')}})}), "bgp.peers[0].name"},
        {bgp({peer(), peer({{"address", "192.0.2.3"}})}), "bgp.peers[1].name: a second peer named tor1"},
        {bgp({peer(), peer({{"name", "tor2"}})}), "bgp.peers[1].address: a second peer at 192.0.2.2"},
        {bgp({peer({{"address", "fe80::1"}})}),
         "bgp.peers[0].address: fe80::1 is a link-local address, not a BGP peer"},
        {bgp({peer({{"address", "127.0.0.1"}})}), "bgp.peers[0].address: 127.0.0.1 is a loopback address"},
        {bgp({peer({{"address", "tor1.example"}})}), "bgp.peers[0].address"},
        {bgp({peer({{"password", "a\"b"}})}), "bgp.peers[0].password"},
        {bgp({peer({{"password", "a\\b"}})}), "bgp.peers[0].password"},
        {bgp({peer({{"password", "a\nb"}})}), "bgp.peers[0].password"},
        {bgp({peer({{"password", std::string(81, 'p')}})}), "bgp.peers[0].password: at most 80 bytes"},
        {bgp({peer({{"holdSeconds", 2}})}), "bgp.peers[0].holdSeconds"},
        {bgp({peer({{"multihop", 256}})}), "bgp.peers[0].multihop"},
        {bgp({peer({{"exportLimit", -1}})}), "bgp.peers[0].exportLimit"},
        {bgp({peer({{"bfd", "yes"}})}), "bgp.peers[0].bfd"},
        {attributes("10.255.53.0/33", {}), "not an IP prefix"},
        {attributes("10.255.53.0/24", {{"communities", json::array{"65536:1"}}}), "communities[0]: a community is"},
        {attributes("10.255.53.0/24", {{"communities", json::array{"65000"}}}), "communities[0]"},
        {attributes("10.255.53.0/24", {{"largeCommunities", json::array{"1:2"}}}), "largeCommunities[0]"},
        {attributes("10.255.53.0/24", {{"largeCommunities", json::array{"1:2:x"}}}), "largeCommunities[0]"},
        {attributes("10.255.53.0/24", {{"prepend", 9}}), "prepend"},
        {attributes("10.255.53.0/24", {{"med", -1}}), "med"},
    }));
    INFO(json::serialize(section));
    CHECK_THROWS_WITH(load(section), Catch::Matchers::Contains(message));
}
