// The chain through libcni itself (the library containerd and CRI-O embed; Debian's 1.1.x,
// driven by test/support/libcni_chain): ADD, CHECK with libcni's cached final result handed
// to every plugin, and DEL, for ptp and bridge, IPv4 and IPv6, cniVersion 0.4.0 and 1.0.0.
#include "test/support/netns.hpp"
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

using namespace anycast::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// A runtime's view: a conflist (main plugin with host-local, then flock-anycast with its own
// anycastIPs) and CNI_PATH holding the reference plugins and flock-anycast.
struct LibcniChain {
    TempDir dir{"libcni"};
    std::string conflist = dir.file("chain.conflist");
    std::string plugins = dir.file("bin");
    std::string cache = dir.file("cache");
    std::string state = dir.file("state");

    LibcniChain(const std::string& main_type, const std::string& version) {
        fs::create_directories(plugins);
        for (const char* plugin : {"ptp", "bridge", "host-local"}) {
            fs::create_symlink(fs::path("/usr/lib/cni") / plugin, fs::path(plugins) / plugin);
        }
        fs::create_symlink(flock_binary(), fs::path(plugins) / "flock-anycast");
        json::object main{
            {"type", main_type},
            {"ipMasq", false},
            {"ipam", json::object{{"type", "host-local"},
                                  {"dataDir", dir.file("ipam")},
                                  {"ranges", json::array{json::array{json::object{{"subnet", "10.77.0.0/24"}}},
                                                         json::array{json::object{{"subnet", "fd77::/64"}}}}}}}};
        if (main_type == "bridge") {
            main["bridge"] = unique_name("br");
            main["isGateway"] = true;
        }
        const json::object flock{
            {"type", "flock-anycast"},
            {"stateDir", state},
            {"anycastIPs", json::array{"10.255.53.53", "fd00:255::53"}},
            {"policy", json::object{{"allowedPrefixes", json::array{"10.255.0.0/16", "fd00:255::/48"}}}}};
        std::ofstream(conflist) << json::serialize(
            json::object{{"cniVersion", version}, {"name", "flocknet"}, {"plugins", json::array{main, flock}}});
    }

    ProcessResult run(const std::string& command, const NamedNetns& pod, const std::string& id = "ctr1") const {
        return run_process({LIBCNI_CHAIN, command, conflist, id, pod.path(), "eth0", cache, "IgnoreUnknown=1"},
                           {.env = {{{"CNI_PATH", plugins}, {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}}},
                            .stdin_text = {},
                            .timeout_seconds = 60});
    }
    std::string record(const std::string& id = "ctr1") const {
        return state + "/records/flocknet_" + id + "_eth0.json";
    }
};

std::string lo_addresses(const NamedNetns& pod) { return pod.exec("ip -o addr show dev lo"); }

}  // namespace

TEST_CASE("CHECK through libcni passes for the whole chain and stays strict about our own state", "[netns][cni]") {
    const std::string main_type = GENERATE("ptp", "bridge");
    const std::string version = GENERATE("0.4.0", "1.0.0");
    INFO(main_type << " cniVersion " << version);
    PrivateNetns node;
    NamedNetns pod("pod");
    const LibcniChain chain(main_type, version);

    const auto add = chain.run("add", pod);
    INFO("add: " << add.out << add.err);
    REQUIRE(add.exit_code == 0);
    CHECK(lo_addresses(pod).find("10.255.53.53/32") != std::string::npos);
    CHECK(lo_addresses(pod).find("fd00:255::53/128") != std::string::npos);
    CHECK(fs::exists(chain.record()));

    const auto check = chain.run("check", pod);
    INFO("check: " << check.err);
    CHECK(check.exit_code == 0);

    SECTION("an anycast IP missing from lo fails CHECK, naming it") {
        pod.exec("ip addr del fd00:255::53/128 dev lo");
        const auto missing = chain.run("check", pod);
        CHECK(missing.exit_code != 0);
        CHECK_THAT(missing.err, Catch::Contains("fd00:255::53"));
    }
    SECTION("a missing record fails CHECK, naming the attachment") {
        fs::remove(chain.record());
        const auto missing = chain.run("check", pod);
        CHECK(missing.exit_code != 0);
        CHECK_THAT(missing.err, Catch::Contains("no record for attachment flocknet/ctr1/eth0"));
    }
    SECTION("DEL, twice") {
        for (int i = 0; i < 2; ++i) {
            const auto del = chain.run("del", pod);
            INFO("del: " << del.err);
            CHECK(del.exit_code == 0);
        }
        CHECK_FALSE(fs::exists(chain.record()));
        CHECK(lo_addresses(pod).find("10.255.53.53") == std::string::npos);
    }
}
