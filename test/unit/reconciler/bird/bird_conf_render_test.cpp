// The bird.conf generated from the node config's bgp section (reconciler/bird/bird_conf_render):
// what each peer field becomes, and that BIRD itself parses the result (`bird -p`).
#include "common/config/node_config_loader.hpp"
#include "reconciler/bird/bird_access.hpp"
#include "reconciler/bird/bird_conf_render.hpp"
#include "reconciler/bird/bird_render.hpp"

#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fstream>

using namespace anycast;
namespace json = boost::json;

namespace {

common::NodeConfig config_with(json::array peers, const std::string& fragment = "/etc/bird/flock-anycast.conf",
                               json::object prefixes = {}) {
    return common::parse_node_config(json::object{{"routes", json::object{{"table", 100}, {"protocol", 242}}},
                                                  {"bird", json::object{{"fragment", fragment}}},
                                                  {"bgp", json::object{{"asn", 65001},
                                                                       {"routerId", "192.0.2.1"},
                                                                       {"peers", std::move(peers)},
                                                                       {"prefixes", std::move(prefixes)}}}},
                                     "config.json");
}

const json::object k_all_attributes{{"communities", json::array{"65000:53", "65000:54"}},
                                    {"largeCommunities", json::array{"65000:1:2"}},
                                    {"localPreference", 200},
                                    {"med", 10},
                                    {"prepend", 2}};

const json::array k_peers = {
    json::object{{"name", "tor1"},
                 {"address", "192.0.2.2"},
                 {"asn", 65000},
                 {"password", "s3cret"},
                 {"bfd", true},
                 {"gracefulRestart", true},
                 {"holdSeconds", 9},
                 {"exportLimit", 1000}},
    json::object{{"name", "tor6"}, {"address", "2001:db8::2"}, {"asn", 65000}, {"multihop", 2}},
    json::object{{"name", "rr"}, {"address", "198.51.100.7"}, {"asn", 65001}},
};

// The text of one `protocol bgp bgp_<name> { ... }` block.
std::string block(const std::string& conf, const std::string& name) {
    const auto start = conf.find("protocol bgp bgp_" + name + " {");
    REQUIRE(start != std::string::npos);
    return conf.substr(start, conf.find("\n}\n", start) - start);
}

}  // namespace

TEST_CASE("the generated bird.conf learns only our table and protocol and includes the rendered sets", "[unit]") {
    const std::string conf = reconciler::render_bird_conf(config_with(k_peers), "/etc/flock-anycast/config.json");
    CHECK(conf.find("from /etc/flock-anycast/config.json") != std::string::npos);
    CHECK(conf.find("router id 192.0.2.1;") != std::string::npos);
    CHECK(conf.find("include \"/etc/bird/flock-anycast.conf\";") != std::string::npos);
    CHECK(conf.find("kernel table 100;") != std::string::npos);
    CHECK(conf.find("import where krt_source = 242 && net ~ FLOCK_ANYCAST_V4;") != std::string::npos);
    CHECK(conf.find("import where krt_source = 242 && net ~ FLOCK_ANYCAST_V6;") != std::string::npos);
    CHECK(conf.find("protocol bfd flock_bfd") != std::string::npos);  // tor1 asks for it
}

TEST_CASE("each peer becomes one session of its address family with its own options", "[unit]") {
    const std::string conf = reconciler::render_bird_conf(config_with(k_peers), "config.json");
    const std::string tor1 = block(conf, "tor1");
    CHECK(tor1.find("local as 65001;") != std::string::npos);
    CHECK(tor1.find("neighbor 192.0.2.2 as 65000;") != std::string::npos);
    CHECK(tor1.find("hold time 9;") != std::string::npos);
    CHECK(tor1.find("keepalive time 3;") != std::string::npos);
    CHECK(tor1.find("direct;") != std::string::npos);
    CHECK(tor1.find("password \"s3cret\";") != std::string::npos);
    CHECK(tor1.find("bfd on;") != std::string::npos);
    CHECK(tor1.find("graceful restart on;") != std::string::npos);
    CHECK(tor1.find("ipv4 {") != std::string::npos);
    CHECK(tor1.find("table flock4;") != std::string::npos);
    CHECK(tor1.find("import none;") != std::string::npos);
    CHECK(tor1.find("export where net ~ FLOCK_ANYCAST_V4 && flock_prefix_attributes();") != std::string::npos);
    CHECK(tor1.find("next hop self;") != std::string::npos);
    CHECK(tor1.find("export limit 1000 action block;") != std::string::npos);

    const std::string tor6 = block(conf, "tor6");
    CHECK(tor6.find("neighbor 2001:db8::2 as 65000;") != std::string::npos);
    CHECK(tor6.find("multihop 2;") != std::string::npos);
    CHECK(tor6.find("ipv6 {") != std::string::npos);
    CHECK(tor6.find("table flock6;") != std::string::npos);
    CHECK(tor6.find("export where net ~ FLOCK_ANYCAST_V6 && flock_prefix_attributes();") != std::string::npos);
    for (const char* absent : {"password", "bfd on", "graceful restart", "export limit", "direct;"}) {
        INFO(absent);
        CHECK(tor6.find(absent) == std::string::npos);
    }
    // iBGP: the next hop is still this node, never a pod behind it.
    CHECK(block(conf, "rr").find("next hop self;") != std::string::npos);
}

TEST_CASE("without a BFD peer there is no BFD protocol", "[unit]") {
    const std::string conf = reconciler::render_bird_conf(
        config_with({json::object{{"name", "tor1"}, {"address", "192.0.2.2"}, {"asn", 65000}}}), "config.json");
    CHECK(conf.find("protocol bfd") == std::string::npos);
}

TEST_CASE("BIRD parses the generated bird.conf and the include with the attributes function", "[unit][bird]") {
    test::TempDir dir("birdconf");
    const std::string fragment = dir.file("flock-anycast.conf");
    const auto config = config_with(
        k_peers, fragment,
        {{"10.255.53.0/24", k_all_attributes}, {"fd00:255::/48", k_all_attributes}, {"10.255.0.0/16", json::object{}}});
    std::ofstream(fragment) << reconciler::render_bird_sets(
        {*common::Prefix::parse("10.255.53.53/32"), *common::Prefix::parse("fd00:255::53/128")},
        reconciler::render_bird_attributes(config.bgp));
    const std::string path = dir.file("bird.conf");
    std::ofstream(path) << reconciler::render_bird_conf(config, "config.json");
    // -p: parse the config and exit; nothing starts, no socket, no root needed.
    const auto result = test::run_process({"bird", "-p", "-c", path});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
}

TEST_CASE("the start check names a missing include directory and an unreachable control socket", "[unit]") {
    test::TempDir dir("birdaccess");
    common::BirdSettings bird;
    bird.fragment = dir.file("flock-anycast.conf");
    bird.socket = dir.file("bird.ctl");
    const auto problems = reconciler::bird_access_problems(bird);
    REQUIRE(problems.size() == 1);  // the directory is writable; nobody listens on the socket
    CHECK(problems[0].find("cannot reach BIRD's control socket " + bird.socket) != std::string::npos);
    CHECK(problems[0].find("No such file or directory") != std::string::npos);

    bird.fragment = dir.file("missing/flock-anycast.conf");
    const auto both = reconciler::bird_access_problems(bird);
    REQUIRE(both.size() == 2);
    CHECK(both[0].find("cannot write the include " + bird.fragment) != std::string::npos);
}

TEST_CASE("without routerId the generated bird.conf leaves the router ID to BIRD", "[unit]") {
    auto config = config_with(k_peers);
    config.bgp.router_id.reset();
    const std::string conf = reconciler::render_bird_conf(config, "config.json");
    CHECK(conf.find("router id ") == std::string::npos);
    CHECK(conf.find("# router id: BIRD's choice") != std::string::npos);
}

TEST_CASE("the attributes function tests the most specific prefix first and sets each attribute", "[unit]") {
    const auto bgp =
        config_with({}, "/x", {{"10.255.0.0/16", json::object{{"med", 1}}}, {"10.255.53.0/24", k_all_attributes}}).bgp;
    const std::string text = reconciler::render_bird_attributes(bgp);
    const auto specific = text.find("net ~ [ 10.255.53.0/24+ ]");
    const auto wide = text.find("net ~ [ 10.255.0.0/16+ ]");
    REQUIRE(specific != std::string::npos);
    REQUIRE(wide != std::string::npos);
    CHECK(specific < wide);
    CHECK(text.find("if net.type = NET_IP4 && net ~ [ 10.255.53.0/24+ ] then {") != std::string::npos);
    const std::string block = text.substr(specific, wide - specific);
    CHECK(block.find("bgp_community.add((65000, 53));") != std::string::npos);
    CHECK(block.find("bgp_community.add((65000, 54));") != std::string::npos);
    CHECK(block.find("bgp_large_community.add((65000, 1, 2));") != std::string::npos);
    CHECK(block.find("bgp_local_pref = 200;") != std::string::npos);
    CHECK(block.find("bgp_med = 10;") != std::string::npos);
    CHECK(block.find("bgp_path.prepend(65001);\n        bgp_path.prepend(65001);") != std::string::npos);
    // Without entries the function is still there, for filters that call it.
    CHECK(reconciler::render_bird_attributes({}).find("function flock_prefix_attributes()") != std::string::npos);
}
