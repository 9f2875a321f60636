// flock-anycast chained after Debian's reference plugins (ptp or bridge, host-local IPAM,
// IPv4 + IPv6), with this test acting as the runtime. The test's private namespace is the
// node: ptp and bridge put the host end of the veth there.
#include "test/support/cni_runtime.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

using namespace anycast::test;
namespace json = boost::json;

namespace {

const json::object k_anycast_ips = {
    {"runtimeConfig", json::object{{"anycastIPs", json::array{"10.255.53.53", "fd00:255::53"}}}}};

// The chain's policy reserves 10.255.53.0/24 and fd00:255::/64 for namespace dns
// (test/support/cni_runtime.cpp): pods claiming k_anycast_ips are in it.
const std::string k_dns_pod = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns";

std::string flock() { return flock_binary(); }

std::string record_path(const Chain& chain, const std::string& id, const std::string& ifname = "eth0") {
    return chain.state_dir() + "/records/" + chain.network() + "_" + id + "_" + ifname + ".json";
}

json::object read_json_file(const std::string& path) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return json::parse(text).as_object();
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

// The pod's own IP of a family as the main plugin reported it ("10.77.0.2/24" → "10.77.0.2").
std::string pod_ip(const json::object& result, bool v4) {
    for (const auto& ip : result.at("ips").as_array()) {
        const std::string address = str(ip.at("address"));
        if ((address.find(':') == std::string::npos) == v4) return address.substr(0, address.find('/'));
    }
    return {};
}

}  // namespace

TEST_CASE("ADD after ptp puts the anycast IPs on the pod's lo, records next hops and answers in the config's version",
          "[netns][cni]") {
    PrivateNetns node;
    const std::string version = GENERATE("0.4.0", "1.1.0");
    INFO("cniVersion " << version);
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, version, state.path(), ipam.path());
    CniCall call{.command = "ADD",
                 .container_id = "ctr1",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args =
                     "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;K8S_POD_NAME=coredns-0;K8S_POD_UID=u-1;"
                     "K8S_POD_INFRA_CONTAINER_ID=ctr1;SOMETHING_ELSE=x",
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto out = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev));
    REQUIRE(out.exit_code == 0);
    CHECK(out.err.find("containerID=ctr1") != std::string::npos);

    CHECK(lo_addresses(pod.name()) == "10.255.53.53/32 fd00:255::53/128");

    // The result is the main plugin's, in the config's version, without the anycast IPs: the
    // main plugin's CHECK gets it back from libcni and insists every IP is on its interface.
    const auto result = json_out(out);
    CHECK(result.at("cniVersion") == version.c_str());
    CHECK(result.at("interfaces") == prev.at("interfaces"));
    CHECK(result.at("ips") == prev.at("ips"));
    for (const auto& ip : result.at("ips").as_array()) {
        CHECK(ip.as_object().contains("version") == (version == "0.4.0"));
    }

    // The record: next hop = the pod's IP; hostIface = the host end of ptp's veth, which is
    // what the kernel uses to reach the pod.
    const std::string host_veth = str(prev.at("interfaces").at(0).at("name"));
    CHECK(sh("ip -o route get " + pod_ip(prev.as_object(), true)).find("dev " + host_veth) != std::string::npos);
    const auto record = read_json_file(record_path(chain, "ctr1"));
    const json::value expected_hops =
        json::array{json::object{{"family", 4}, {"via", pod_ip(prev.as_object(), true)}, {"hostIface", host_veth}},
                    json::object{{"family", 6}, {"via", pod_ip(prev.as_object(), false)}, {"hostIface", host_veth}}};
    CHECK(record.at("nexthops") == expected_hops);
    CHECK(record.at("version") == 1);
    CHECK(record.at("network") == "flocknet");
    CHECK(record.at("containerID") == "ctr1");
    CHECK(record.at("ifname") == "eth0");
    CHECK(record.at("netns") == pod.path().c_str());
    CHECK(record.at("pod") == json::value(json::object{{"namespace", "dns"}, {"name", "coredns-0"}, {"uid", "u-1"}}));
    CHECK(record.at("ips") == json::value(json::array{"10.255.53.53", "fd00:255::53"}));
    CHECK(str(record.at("created")).size() == 20);
    CHECK(list_dir(state.path() + "/tmp").empty());
}

TEST_CASE("ADD after bridge records the bridge as the host interface for both families", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    const std::string bridge = unique_name("br");
    Chain chain(MainPlugin::bridge, "1.1.0", state.path(), ipam.path(), bridge);
    CniCall call{.command = "ADD",
                 .container_id = "ctr2",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns;ANYCAST_IPS=10.255.53.53,fd00:255::53",
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto out = run_cni(flock(), call, chain.flock_config({}, &prev));
    INFO(out.out << out.err);
    REQUIRE(out.exit_code == 0);
    CHECK(lo_addresses(pod.name()) == "10.255.53.53/32 fd00:255::53/128");
    const auto record = read_json_file(record_path(chain, "ctr2"));
    const auto& hops = record.at("nexthops").as_array();
    REQUIRE(hops.size() == 2);
    CHECK(hops[0].at("via") == pod_ip(prev.as_object(), true).c_str());
    CHECK(hops[0].at("hostIface") == bridge.c_str());
    CHECK(hops[1].at("via") == pod_ip(prev.as_object(), false).c_str());
    CHECK(hops[1].at("hostIface") == bridge.c_str());
    // K8S_POD_NAMESPACE without K8S_POD_NAME: the namespace is recorded, the name left empty.
    CHECK(record.at("pod").at("namespace") == "dns");
    CHECK(record.at("pod").at("name") == "");
}

TEST_CASE("the plugin entry's own anycastIPs go to every attachment of the network, without Kubernetes",
          "[netns][cni]") {
    PrivateNetns node;
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.0.0", state.path(), ipam.path());
    // As `ctr run --cni` or podman call it: no CNI_ARGS naming a pod.
    const json::object static_ips{{"anycastIPs", json::array{"10.255.7.7", "fd00:255:0:1::7"}}};
    std::vector<std::unique_ptr<NamedNetns>> pods;
    for (const char* id : {"ctr-a", "ctr-b"}) {
        INFO(id);
        pods.push_back(std::make_unique<NamedNetns>("pod"));
        CniCall call{.command = "ADD",
                     .container_id = id,
                     .netns = pods.back()->path(),
                     .ifname = "eth0",
                     .cni_args = {},
                     .extra_env = {}};
        const json::value prev = chain.add_main(call);
        const auto add = run_cni(flock(), call, chain.flock_config(static_ips, &prev));
        INFO(add.err);
        REQUIRE(add.exit_code == 0);
        CHECK(lo_addresses(pods.back()->name()) == "10.255.7.7/32 fd00:255:0:1::7/128");
        const auto record = read_json_file(record_path(chain, id));
        CHECK(record.at("ips") == json::array{"10.255.7.7", "fd00:255:0:1::7"});
        call.command = "CHECK";
        CHECK(run_cni(flock(), call, chain.flock_config(static_ips, &prev)).exit_code == 0);
        call.command = "DEL";
        CHECK(run_cni(flock(), call, chain.flock_config(static_ips, &prev)).exit_code == 0);
        CHECK(lo_addresses(pods.back()->name()).empty());
    }
    // The same policy applies: dns's reserved prefix is not for a pod of no namespace.
    NamedNetns pod("pod");
    CniCall call{.command = "ADD",
                 .container_id = "ctr-c",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = {},
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto refused =
        run_cni(flock(), call, chain.flock_config({{"anycastIPs", json::array{"10.255.53.53"}}}, &prev));
    CHECK(refused.exit_code != 0);
    CHECK(json_out(refused).at("code") == 100);
    const auto bad = run_cni(flock(), call, chain.flock_config({{"anycastIPs", json::array{"10.255.7.300"}}}, &prev));
    CHECK(json_out(bad).at("code") == 7);
    CHECK(json_out(bad).at("msg").as_string().find("anycastIPs[0]: not an IP address") != json::string::npos);
}

TEST_CASE("ADD without requested IPs passes prevResult through and writes nothing", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.0.0", state.path(), ipam.path());
    CniCall call{.command = "ADD",
                 .container_id = "ctr3",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = {},
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto out = run_cni(flock(), call, chain.flock_config({}, &prev));
    REQUIRE(out.exit_code == 0);
    CHECK(json::value(json_out(out)) == prev);
    CHECK(list_dir(state.path() + "/records").empty());
    CHECK(lo_addresses(pod.name()).empty());
}

TEST_CASE("DEL removes the IPs and the record, succeeds twice and after the netns is gone", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    CniCall call{.command = "ADD",
                 .container_id = "ctr4",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = k_dns_pod,
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    REQUIRE(run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev)).exit_code == 0);
    REQUIRE(std::filesystem::exists(record_path(chain, "ctr4")));

    call.command = "DEL";
    for (int i = 0; i < 2; ++i) {
        INFO("DEL #" << i + 1);
        const auto del = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev));
        CHECK(del.exit_code == 0);
        CHECK(del.out.empty());
        CHECK(lo_addresses(pod.name()).empty());
        CHECK_FALSE(std::filesystem::exists(record_path(chain, "ctr4")));
    }

    // A second attachment whose netns is deleted before DEL.
    NamedNetns gone("pod");
    CniCall second{.command = "ADD",
                   .container_id = "ctr5",
                   .netns = gone.path(),
                   .ifname = "eth0",
                   .cni_args = k_dns_pod,
                   .extra_env = {}};
    const json::value prev2 = chain.add_main(second);
    REQUIRE(run_cni(flock(), second, chain.flock_config(k_anycast_ips, &prev2)).exit_code == 0);
    gone.remove();
    second.command = "DEL";
    const auto del = run_cni(flock(), second, chain.flock_config(k_anycast_ips));
    CHECK(del.exit_code == 0);
    CHECK(del.out.empty());
    CHECK_FALSE(std::filesystem::exists(record_path(chain, "ctr5")));
    second.netns.clear();  // runtimes may pass no netns at all once it is gone
    CHECK(run_cni(flock(), second, chain.flock_config()).exit_code == 0);
}

TEST_CASE("DEL after a downgrade removes a record the newer build wrote in a form this one cannot read",
          "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    CniCall call{.command = "ADD",
                 .container_id = "ctr6",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = k_dns_pod,
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    REQUIRE(run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev)).exit_code == 0);
    std::ofstream(record_path(chain, "ctr6"), std::ios::trunc)
        << R"({"version":2,"network":")" << chain.network() << R"(","containerID":"ctr6","ifname":"eth0","ips":{}})";

    call.command = "DEL";
    const auto del = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev));
    CHECK(del.exit_code == 0);
    CHECK(lo_addresses(pod.name()).empty());
    CHECK_FALSE(std::filesystem::exists(record_path(chain, "ctr6")));
    CHECK(std::filesystem::is_empty(state.path() + "/quarantine"));
}

TEST_CASE("CHECK passes after ADD and fails with code 3 when an IP or the record is missing", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    CniCall call{.command = "ADD",
                 .container_id = "ctr6",
                 .netns = pod.path(),
                 .ifname = "eth0",
                 .cni_args = k_dns_pod,
                 .extra_env = {}};
    const json::value prev = chain.add_main(call);
    const auto add = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev));
    REQUIRE(add.exit_code == 0);
    const json::value result = json_out(add);

    call.command = "CHECK";
    const auto ok = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &result));
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.empty());

    pod.exec("ip addr del fd00:255::53/128 dev lo");
    const auto missing_ip = run_cni(flock(), call, chain.flock_config(k_anycast_ips, &result));
    CHECK(missing_ip.exit_code == 1);
    const auto error = json_out(missing_ip);
    CHECK(error.at("code") == 3);
    CHECK(str(error.at("msg")) == "anycast IPs missing from lo in " + pod.path() + ": fd00:255::53");

    std::filesystem::remove(record_path(chain, "ctr6"));
    const auto no_record = json_out(run_cni(flock(), call, chain.flock_config(k_anycast_ips, &result)));
    CHECK(no_record.at("code") == 3);
    CHECK(str(no_record.at("msg")) == "no record for attachment flocknet/ctr6/eth0");
}

TEST_CASE("GC keeps the listed attachments of this network and removes the rest", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns pod_a("pod"), pod_b("pod");
    TempDir state("state"), ipam("ipam");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    for (const auto& [id, pod] : {std::pair{"keep", &pod_a}, std::pair{"stale", &pod_b}}) {
        CniCall call{.command = "ADD",
                     .container_id = id,
                     .netns = pod->path(),
                     .ifname = "eth0",
                     .cni_args = k_dns_pod,
                     .extra_env = {}};
        const json::value prev = chain.add_main(call);
        REQUIRE(run_cni(flock(), call, chain.flock_config(k_anycast_ips, &prev)).exit_code == 0);
    }
    // A record of another network must survive this network's GC.
    Chain other(MainPlugin::ptp, "1.1.0", state.path(), ipam.path());
    const std::string other_record = state.path() + "/records/othernet_x_eth0.json";
    std::filesystem::copy_file(record_path(chain, "stale"), other_record);
    {
        auto doc = read_json_file(other_record);
        doc["network"] = "othernet";
        doc["containerID"] = "x";
        std::ofstream(other_record, std::ios::trunc) << json::serialize(doc);
    }

    json::object gc_fields = {
        {"cni.dev/valid-attachments", json::array{json::object{{"containerID", "keep"}, {"ifname", "eth0"}}}}};
    const auto gc = run_cni(
        flock(),
        CniCall{.command = "GC", .container_id = {}, .netns = {}, .ifname = {}, .cni_args = {}, .extra_env = {}},
        chain.flock_config(gc_fields));
    CHECK(gc.exit_code == 0);
    CHECK(gc.out.empty());
    CHECK(list_dir(state.path() + "/records") == "flocknet_keep_eth0.json\nothernet_x_eth0.json\n");
    CHECK(lo_addresses(pod_a.name()) == "10.255.53.53/32 fd00:255::53/128");
    CHECK(lo_addresses(pod_b.name()).empty());
}

TEST_CASE("STATUS succeeds with a usable state dir and is code 50 otherwise; VERSION lists versions", "[cni]") {
    TempDir state("state");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path() + "/s", state.path());
    const CniCall status{
        .command = "STATUS", .container_id = {}, .netns = {}, .ifname = {}, .cni_args = {}, .extra_env = {}};
    const auto ok = run_cni(flock(), status, chain.flock_config());
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.empty());

    std::ofstream(state.path() + "/file") << "x";
    const auto bad = run_cni(flock(), status, chain.flock_config({{"stateDir", state.path() + "/file/s"}}));
    CHECK(bad.exit_code == 1);
    const auto error = json_out(bad);
    CHECK(error.at("code") == 50);
    CHECK(error.at("cniVersion") == "1.1.0");
    CHECK(str(error.at("msg")) == "state directory " + state.path() + "/file/s is not usable: create directory " +
                                      state.path() + "/file: Not a directory");

    const auto version = run_cni(
        flock(),
        CniCall{.command = "VERSION", .container_id = {}, .netns = {}, .ifname = {}, .cni_args = {}, .extra_env = {}},
        R"({"cniVersion":"1.1.0"})");
    CHECK(version.exit_code == 0);
    CHECK(json::value(json_out(version)) ==
          json::parse(R"({"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"));
}
