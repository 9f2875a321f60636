// Bad input to ADD: each case gets the spec's error code, a message naming the problem, and
// leaves the store and the pod's namespace exactly as they were.
#include "test/support/cni_runtime.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>

using namespace anycast::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Every file under the state dir with its content: "unchanged" means equal snapshots.
std::string snapshot(const std::string& dir) {
    std::string text;
    if (!fs::exists(dir)) return text;
    std::vector<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
        text += path + "\n";
        if (fs::is_regular_file(path)) {
            std::ifstream in(path);
            text += std::string((std::istreambuf_iterator<char>(in)), {}) + "\n";
        }
    }
    return text;
}

json::object with(json::object base, const json::object& fields) {
    for (const auto& [k, v] : fields) base[k] = v;
    return base;
}

json::object ips_field(json::array ips) { return {{"runtimeConfig", json::object{{"anycastIPs", std::move(ips)}}}}; }

// The main plugin's result without its IPv6 addresses: a v4-only pod.
json::value without_v6(json::value result) {
    json::array kept;
    for (const auto& ip : result.at("ips").as_array()) {
        if (std::string(ip.at("address").as_string()).find(':') == std::string::npos) kept.push_back(ip);
    }
    result.as_object()["ips"] = kept;
    return result;
}

struct BadCase {
    std::string name;
    int code;
    std::string message;  // the whole msg, or its start when `prefix_only`
    bool prefix_only;
    std::function<void(CniCall&, std::string& stdin_text)> make;
};

}  // namespace

TEST_CASE("ADD refuses bad input with the right code and message and changes nothing", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    const CniCall base{.command = "ADD",
                       .container_id = "ctr",
                       .netns = pod.path(),
                       .ifname = "eth0",
                       .cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=p",
                       .extra_env = {}};
    const json::value prev = chain.add_main(base);
    const auto good = [&](const json::object& fields = ips_field({"10.255.53.53"})) {
        return chain.flock_config(fields, &prev);
    };
    // An existing attachment, so "unchanged" covers a non-empty store too.
    {
        CniCall other = base;
        other.container_id = "other";
        REQUIRE(run_cni(flock_binary(), other, good()).exit_code == 0);
    }
    // A corrupt record of a third attachment for the corrupt-record case.
    std::ofstream(state.path() + "/records/flocknet_corrupt_eth0.json") << R"({"version": 1, "netw)";

    const std::string nowhere_netns = "/run/netns/" + unique_name("gone");
    std::ofstream(state.path() + "/plainfile") << "x";
    std::string many;
    for (int i = 0; i < 1000; ++i) many += fmt::format("10.255.{}.{},", 53 + i / 256, i % 256);

    const std::vector<BadCase> cases = {
        {"empty stdin", 6, "stdin: empty, expected the network configuration JSON", false,
         [](CniCall&, std::string& in) { in.clear(); }},
        {"invalid JSON", 6, "stdin: invalid JSON", true, [](CniCall&, std::string& in) { in = "{\"cniVersion\": "; }},
        {"missing cniVersion", 7, "network config: cniVersion: missing", false,
         [&](CniCall&, std::string& in) {
             auto doc = json::parse(good()).as_object();
             doc.erase("cniVersion");
             in = json::serialize(doc);
         }},
        {"unsupported cniVersion", 1, "cniVersion: unsupported version \"0.2.0\"", false,
         [&](CniCall&, std::string& in) {
             in = good({{"cniVersion", "0.2.0"}});
         }},
        {"missing CNI_CONTAINERID", 4, "CNI_CONTAINERID: missing", false,
         [](CniCall& c, std::string&) { c.container_id.clear(); }},
        {"missing CNI_NETNS", 4, "CNI_NETNS: missing", false, [](CniCall& c, std::string&) { c.netns.clear(); }},
        {"missing CNI_IFNAME", 4, "CNI_IFNAME: missing", false, [](CniCall& c, std::string&) { c.ifname.clear(); }},
        {"malformed CNI_ARGS", 4, "CNI_ARGS: \"garbage\" is not K=V", false,
         [](CniCall& c, std::string&) { c.cni_args = "K8S_POD_NAMESPACE=dns;garbage"; }},
        {"unknown CNI_ARGS key without IgnoreUnknown", 4,
         "CNI_ARGS: unknown key FOO (set IgnoreUnknown=1 to ignore unknown keys)", false,
         [](CniCall& c, std::string&) { c.cni_args = "FOO=1"; }},
        {"netns that does not exist", 4, "CNI_NETNS: " + nowhere_netns + ": No such file or directory", false,
         [&](CniCall& c, std::string&) { c.netns = nowhere_netns; }},
        {"unparseable IP", 7, "runtimeConfig.anycastIPs[1]: not an IP address: \"10.255.53.300\"", false,
         [&](CniCall&, std::string& in) {
             in = good(ips_field({"10.255.53.53", "10.255.53.300"}));
         }},
        {"unparseable IP in CNI_ARGS", 7, "CNI_ARGS ANYCAST_IPS: not an IP address: \"fd00::zz\"", false,
         [](CniCall& c, std::string&) { c.cni_args += ";ANYCAST_IPS=fd00::zz"; }},
        {"IP outside the policy", 100, "policy refuses anycast IP 192.0.2.1: ", true,
         [&](CniCall&, std::string& in) {
             in = good(ips_field({"10.255.53.53", "192.0.2.1"}));
         }},
        {"IP allowed globally but not for this namespace", 100, "policy refuses anycast IP 10.255.1.1: ", true,
         [&](CniCall&, std::string& in) { in = good(ips_field({"10.255.1.1"})); }},
        {"IP reserved for another namespace", 100,
         "policy refuses anycast IP 10.255.53.53: 10.255.53.53 is reserved for namespace dns", true,
         [&](CniCall& c, std::string& in) {
             c.cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=p";
             in = good(ips_field({"10.255.53.53"}));
         }},
        {"loopback address, whatever the policy", 100,
         "policy refuses anycast IP 127.0.0.53: 127.0.0.53 is a loopback address, never an anycast address", true,
         [&](CniCall&, std::string& in) { in = good(ips_field({"127.0.0.53"})); }},
        {"state directory writable by others", 103,
         state.path() + "/open: mode 0777 lets its group or others write; refusing it (chmod go-w)", false,
         [&](CniCall&, std::string& in) {
             const std::string open_dir = state.path() + "/open";
             std::filesystem::create_directories(open_dir);
             ::chmod(open_dir.c_str(), 0777);
             json::object fields = ips_field({"10.255.53.53"});
             fields["stateDir"] = open_dir;
             in = good(fields);
         }},
        {"IPv6 requested for an IPv4-only pod", 101,
         "anycast IP fd00:255::53 is IPv6 but the pod has no IPv6 address in prevResult", false,
         [&](CniCall&, std::string& in) {
             const json::value v4_only = without_v6(prev);
             in = chain.flock_config(ips_field({"10.255.53.53", "fd00:255::53"}), &v4_only);
         }},
        {"no prevResult", 7, "prevResult: missing", false,
         [&](CniCall&, std::string& in) { in = chain.flock_config(ips_field({"10.255.53.53"})); }},
        {"unwritable state dir", 103, "create directory " + state.path() + "/plainfile: Not a directory", false,
         [&](CniCall&, std::string& in) {
             in = good(with(ips_field({"10.255.53.53"}), {{"stateDir", state.path() + "/plainfile/s"}}));
         }},
        {"corrupt existing record for the same attachment", 103,
         "record " + state.path() + "/records/flocknet_corrupt_eth0.json is corrupt: ", true,
         [](CniCall& c, std::string&) { c.container_id = "corrupt"; }},
        {"1 000 requested IPs", 7, "too many anycast IPs: 1000 requested, at most 256 per attachment", false,
         [&](CniCall& c, std::string&) { c.cni_args += ";ANYCAST_IPS=" + many; }},
        {"bad node-config field inline", 7, "network config: routes.table: expected an integer, got a string", false,
         [&](CniCall&, std::string& in) {
             in = good(with(ips_field({"10.255.53.53"}), {{"routes", json::object{{"table", "x"}}}}));
         }},
    };

    // One setup for all cases (ptp's ADD waits for IPv6 to settle): each case must leave it as
    // it found it, which is what the test checks.
    for (const auto& c : cases) {
        {
            INFO("case: " << c.name);
            CniCall call = base;
            std::string stdin_text = good();
            c.make(call, stdin_text);
            const std::string store_before = snapshot(state.path());
            const std::string lo_before = lo_addresses(pod.name());
            const auto out = run_cni(flock_binary(), call, stdin_text);
            CHECK(out.exit_code == 1);
            const auto error = json_out(out);
            CHECK(error.at("code") == c.code);
            const std::string msg(error.at("msg").as_string());
            if (c.prefix_only) {
                CHECK_THAT(msg, Catch::StartsWith(c.message));
            } else {
                CHECK(msg == c.message);
            }
            CHECK(error.contains("cniVersion"));
            CHECK(snapshot(state.path()) == store_before);
            CHECK(lo_addresses(pod.name()) == lo_before);
        }
    }
}

TEST_CASE("ADD dedupes repeated IPs from all sources into one canonical set", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    CniCall call{
        .command = "ADD",
        .container_id = "dup",
        .netns = pod.path(),
        .ifname = "eth0",
        .cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;ANYCAST_IPS=10.255.53.53,fd00:255:0::53,10.255.53.53",
        .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto out = run_cni(flock_binary(), call,
                             chain.flock_config(ips_field({"FD00:255::53", "10.255.53.53", "10.255.53.53"}), &prev));
    REQUIRE(out.exit_code == 0);
    CHECK(lo_addresses(pod.name()) == "10.255.53.53/32 fd00:255::53/128");
    CHECK(json_out(out).at("ips").as_array().size() == 2);  // ptp's: the result lists no anycast IP
}

TEST_CASE("a stdin that cannot be read is refused with code 6 naming stdin", "[cni]") {
    // The runtime's pipe closed before exec: read(2) fails (EBADF) instead of returning EOF.
    ProcessOptions options;
    options.env = std::map<std::string, std::string>{{"CNI_COMMAND", "ADD"}, {"PATH", "/usr/bin:/bin"}};
    const auto out = run_process({"sh", "-c", "exec \"$0\" <&-", flock_binary()}, options);
    CHECK(out.exit_code == 1);
    const auto error = json::parse(out.out);
    CHECK(error.at("code") == 6);
    CHECK(error.at("msg") == "stdin: cannot read the network configuration");
    CHECK(error.at("details") == "Bad file descriptor");
}
