// Many plugin processes at once against one state dir, and plugins killed mid-write.
#include "common/store/record_json.hpp"
#include "test/support/cni_runtime.hpp"
#include "test/support/netns.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace anycast::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// A pod reachable over a plain veth (no IPAM): its prevResult is written by hand, so 64
// attachments can share one pod namespace without 64 main-plugin runs.
struct VethPod {
    explicit VethPod(NamedNetns& pod) : host_end(unique_name("vh")), netns(pod.path()) {
        const std::string peer = unique_name("vp");
        make_veth(host_end, peer, pod.name());
        sh("ip addr add 10.78.0.1/24 dev " + host_end);
        sh("ip addr add fd78::1/64 dev " + host_end + " nodad");
        pod.exec("ip link set " + peer +
                 " name eth0 && ip addr add 10.78.0.2/24 dev eth0 && "
                 "ip addr add fd78::2/64 dev eth0 nodad");
        prev_result = json::object{
            {"cniVersion", "1.1.0"},
            {"interfaces", json::array{json::object{{"name", "eth0"}, {"sandbox", netns}}}},
            {"ips", json::array{json::object{{"address", "10.78.0.2/24"}, {"interface", 0}},
                                json::object{{"address", "fd78::2/64"}, {"interface", 0}}}},
        };
    }
    std::string host_end;
    std::string netns;
    json::value prev_result;
};

std::string anycast_ip(int i) { return fmt::format("10.255.{}.{}", 100 + i / 200, 1 + i % 200); }

std::string config_for(const Chain& chain, const VethPod& pod, int i) {
    return chain.flock_config({{"runtimeConfig", json::object{{"anycastIPs", json::array{anycast_ip(i).c_str()}}}}},
                              &pod.prev_result);
}

CniCall call_for(const VethPod& pod, const std::string& command, int i) {
    return CniCall{.command = command,
                   .container_id = fmt::format("c{:02}", i),
                   .netns = pod.netns,
                   .ifname = "eth0",
                   .cni_args = {},
                   .extra_env = {}};
}

}  // namespace

TEST_CASE("64 ADD and DEL processes in parallel end with exactly the expected records and addresses", "[netns][cni]") {
    PrivateNetns node;
    NamedNetns netns("pod");
    VethPod pod(netns);
    TempDir state("state");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), state.path() + "/unused");

    // c32..c63 exist first; then 32 ADDs (c00..c31) and 32 DELs (c32..c63) race.
    for (int i = 32; i < 64; ++i) {
        const auto out = run_cni(flock_binary(), call_for(pod, "ADD", i), config_for(chain, pod, i));
        REQUIRE(out.exit_code == 0);
    }
    std::vector<ProcessResult> results(64);
    std::vector<std::thread> threads;
    for (int i = 0; i < 64; ++i) {
        threads.emplace_back([&, i] {
            results[static_cast<std::size_t>(i)] =
                run_cni(flock_binary(), call_for(pod, i < 32 ? "ADD" : "DEL", i), config_for(chain, pod, i));
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < 64; ++i) {
        INFO("process " << i << ": " << results[static_cast<std::size_t>(i)].out
                        << results[static_cast<std::size_t>(i)].err);
        CHECK(results[static_cast<std::size_t>(i)].exit_code == 0);
    }

    std::string expected_records;
    std::vector<std::string> expected_ips;
    for (int i = 0; i < 32; ++i) {
        expected_records += fmt::format("flocknet_c{:02}_eth0.json\n", i);
        expected_ips.push_back(anycast_ip(i) + "/32");
    }
    CHECK(list_dir(state.path() + "/records") == expected_records);
    CHECK(list_dir(state.path() + "/tmp").empty());
    CHECK(list_dir(state.path() + "/quarantine").empty());
    std::sort(expected_ips.begin(), expected_ips.end());
    std::string ips;
    for (const auto& ip : expected_ips) ips += (ips.empty() ? "" : " ") + ip;
    CHECK(lo_addresses(netns.name()) == ips);
    // Every record parses and names the veth as the host interface.
    for (const auto& entry : fs::directory_iterator(state.path() + "/records")) {
        std::ifstream in(entry.path());
        const auto record = json::parse(std::string((std::istreambuf_iterator<char>(in)), {}));
        CHECK(record.at("nexthops").at(0).at("hostIface") == pod.host_end.c_str());
    }
}

// Needs the fault hook (meson -Dtest_hooks=true; test/run.sh sets it).
#ifdef FLOCK_TEST_HOOKS
TEST_CASE("an ADD killed between writing the temp file and the rename leaves no torn record; the next ADD cleans up",
          "[netns][cni]") {
    PrivateNetns node;
    NamedNetns netns("pod");
    VethPod pod(netns);
    TempDir state("state");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), state.path() + "/unused");
    REQUIRE(run_cni(flock_binary(), call_for(pod, "ADD", 1), config_for(chain, pod, 1)).exit_code == 0);
    const std::string record1 = state.path() + "/records/flocknet_c01_eth0.json";
    std::ifstream before_in(record1);
    const std::string before((std::istreambuf_iterator<char>(before_in)), {});

    // Killed while replacing an existing record (re-ADD) and while writing a new one.
    for (const int i : {1, 2}) {
        CniCall call = call_for(pod, "ADD", i);
        call.extra_env["FLOCK_TEST_FAULT"] = "store-before-rename";
        const auto killed = run_cni(flock_binary(), call, config_for(chain, pod, i == 1 ? 3 : 2));
        CHECK(killed.exit_code == 128 + SIGKILL);
        CHECK(killed.out.empty());
    }
    CHECK(list_dir(state.path() + "/records") == "flocknet_c01_eth0.json\n");
    std::ifstream after_in(record1);
    CHECK(std::string((std::istreambuf_iterator<char>(after_in)), {}) == before);
    CHECK(list_dir(state.path() + "/tmp") != "");

    // The runtime DELs the failed attachment; the next ADD sweeps the leftover temp files.
    REQUIRE(run_cni(flock_binary(), call_for(pod, "DEL", 2), config_for(chain, pod, 2)).exit_code == 0);
    const auto next = run_cni(flock_binary(), call_for(pod, "ADD", 4), config_for(chain, pod, 4));
    REQUIRE(next.exit_code == 0);
    CHECK(next.err.find("removed a temp file left by an interrupted write") != std::string::npos);
    CHECK(list_dir(state.path() + "/tmp").empty());
    CHECK(list_dir(state.path() + "/records") == "flocknet_c01_eth0.json\nflocknet_c04_eth0.json\n");
    CHECK(list_dir(state.path() + "/quarantine").empty());
}
#endif

namespace {

// The names of the files in records/ that do not parse as a whole record.
std::vector<std::string> torn_records(const std::string& records_dir) {
    std::vector<std::string> torn;
    if (!fs::exists(records_dir)) return torn;
    for (const auto& entry : fs::directory_iterator(records_dir)) {
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            anycast::common::parse_record(text, entry.path().string());
        } catch (const std::exception& e) {
            torn.push_back(entry.path().filename().string() + ": " + e.what());
        }
    }
    return torn;
}

}  // namespace

TEST_CASE("200 ADD and DEL killed by SIGKILL at random moments leave only whole records and a usable store",
          "[netns][cni][crash]") {
    PrivateNetns node;
    NamedNetns netns("pod");
    VethPod pod(netns);
    TempDir state("state");
    Chain chain(MainPlugin::ptp, "1.1.0", state.path(), state.path() + "/unused");
    const std::string records = state.path() + "/records";
    constexpr int k_attachments = 20;

    // How long a whole ADD takes here (spawn to exit): kills are spread over that span.
    std::vector<double> seconds;
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        REQUIRE(run_cni(flock_binary(), call_for(pod, "ADD", 0), config_for(chain, pod, 0)).exit_code == 0);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double span = seconds[2] * 1.2;

    const char* seed_env = std::getenv("FLOCK_CRASH_SEED");
    const unsigned seed = seed_env ? static_cast<unsigned>(std::stoul(seed_env)) : std::random_device{}();
    INFO("seed " << seed << " (FLOCK_CRASH_SEED reproduces a run)");
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> moment(0.0, span);
    int killed = 0, completed = 0, left_temp_files = 0;
    for (int round = 0; round < 200; ++round) {
        const int i = static_cast<int>(random() % k_attachments);
        const char* command = random() % 2 ? "ADD" : "DEL";
        const auto result =
            run_cni(flock_binary(), call_for(pod, command, i), config_for(chain, pod, i), moment(random));
        INFO("round " << round << ": " << command << " c" << i << " exit " << result.exit_code << ": " << result.err);
        REQUIRE((result.exit_code == 0 || result.exit_code == 128 + SIGKILL));
        (result.exit_code == 0 ? completed : killed) += 1;
        if (!list_dir(state.path() + "/tmp").empty()) ++left_temp_files;
        REQUIRE(torn_records(records).empty());
        REQUIRE(list_dir(state.path() + "/quarantine").empty());
    }
    std::cout << fmt::format(
        "crash test: {} plugin runs killed, {} completed, {} rounds ended with a temp file in tmp/ "
        "(kills spread over {:.2f} ms, seed {})\n",
        killed, completed, left_temp_files, span * 1000, seed);
    CHECK(killed >= 50);  // else the moments missed the runs and the test proved little

    // The runtime retries: every DEL then succeeds and leaves nothing behind.
    for (int i = 0; i < k_attachments; ++i) {
        const auto del = run_cni(flock_binary(), call_for(pod, "DEL", i), config_for(chain, pod, i));
        INFO("DEL c" << i << ": " << del.err);
        CHECK(del.exit_code == 0);
    }
    CHECK(list_dir(records).empty());
    CHECK(lo_addresses(netns.name()).empty());
    // The store stays usable: the next writer sweeps temp files, STATUS is happy.
    REQUIRE(run_cni(flock_binary(), call_for(pod, "ADD", 1), config_for(chain, pod, 1)).exit_code == 0);
    CHECK(list_dir(state.path() + "/tmp").empty());
    CHECK(list_dir(records) == "flocknet_c01_eth0.json\n");
    CHECK(lo_addresses(netns.name()) == anycast_ip(1) + "/32");
    CHECK(run_cni(flock_binary(), call_for(pod, "STATUS", 1), config_for(chain, pod, 1)).exit_code == 0);
}
