#include "test/support/generated_bird_lab.hpp"

#include "common/config/node_config_loader.hpp"
#include "reconciler/bird/bird_render.hpp"
#include "test/support/process.hpp"
#include "test/support/wait_until.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace anycast::test {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// The router's side: learns what the node announces into its kernel.
std::string router_conf(const SessionOptions& options) {
    return fmt::format(R"(log stderr all;
router id 10.0.0.1;
protocol device {{
}}
protocol kernel {{
    ipv4 {{ import none; export all; }};
}}
{}
protocol bgp node4 {{
    local 10.0.0.1 as 65000;
    neighbor 10.0.0.2 as 65001;
    hold time {};
    connect delay time 1;
    connect retry time 1;
    error wait time 1, 5;
    {}
    ipv4 {{ import all; export none; }};
}}
)",
                       options.bfd ? R"(protocol bfd {
    interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
})"
                                   : "",
                       options.hold_seconds, options.bfd ? "bfd on;" : "");
}

}  // namespace

GeneratedLab::GeneratedLab(const SessionOptions& options) {
    sh("ip link add n-r netns " + node.name() + " type veth peer name r-n netns " + router.name());
    node.exec("ip link set n-r up && ip addr add 10.0.0.2/24 dev n-r");
    router.exec("ip link set r-n up && ip addr add 10.0.0.1/24 dev r-n");
    node.exec(
        "ip link add n-p type veth peer name p-n && ip link set n-p up && ip link set p-n up && "
        "ip addr add 10.1.1.1/24 dev n-p");

    json::object peer{{"name", "router"},
                      {"address", "10.0.0.1"},
                      {"asn", 65000},
                      {"bfd", options.bfd},
                      {"holdSeconds", options.hold_seconds},
                      {"exportLimit", options.export_limit}};
    config_ = json::object{
        {"bird", json::object{{"fragment", dir.file("flock-anycast.conf")}}},
        {"bgp",
         json::object{
             {"asn", 65001}, {"routerId", "10.0.0.2"}, {"peers", json::array{peer}}, {"prefixes", options.prefixes}}}};
    std::ofstream(dir.file("config.json")) << json::serialize(config_);
    attributes_ = reconciler::render_bird_attributes(common::parse_node_config(config_, "config.json").bgp);
    const auto generated = run_process({flock_binary(), "bird-config", "--config", dir.file("config.json")});
    if (generated.exit_code != 0) throw std::runtime_error("bird-config failed: " + generated.err);
    set_prefixes(0);

    node_bird = std::make_unique<BirdDaemon>(node.name(), dir.path(), "node", generated.out);
    router_bird = std::make_unique<BirdDaemon>(router.name(), dir.path(), "router", router_conf(options));
    router_bird->start();
    node_bird->start();
    if (!wait_until([&] { return established(); })) {
        throw std::runtime_error("BGP session never came up:\n" + router_bird->birdc("show protocols all node4"));
    }
}

GeneratedLab::~GeneratedLab() {
    if (frozen_) ::kill(node_bird->pid(), SIGCONT);  // else SIGTERM waits forever
    node_bird.reset();
    router_bird.reset();
}

void GeneratedLab::set_prefixes(int count) {
    std::vector<common::Prefix> set;
    for (int i = 1; i <= count; ++i) {
        const std::string prefix = fmt::format("10.255.53.{}/32", i);
        node.exec("ip route replace " + prefix + " via 10.1.1.2 dev n-p proto 241 table 241");
        set.push_back(*common::Prefix::parse(prefix));
    }
    std::ofstream(dir.file("flock-anycast.conf")) << reconciler::render_bird_sets(set, attributes_);
    if (node_bird) node_bird->birdc("configure");
}

bool GeneratedLab::established() const {
    return router_bird->birdc("show protocols node4").find("Established") != std::string::npos;
}

int GeneratedLab::router_routes() const {
    std::istringstream lines(router.exec("ip -4 route show proto bird"));
    int count = 0;
    for (std::string line; std::getline(lines, line);) count += line.find("10.255.53.") == 0 ? 1 : 0;
    return count;
}

void GeneratedLab::freeze_node() {
    REQUIRE(::kill(node_bird->pid(), SIGSTOP) == 0);
    frozen_ = true;
}

std::chrono::milliseconds GeneratedLab::time_to_withdrawal(std::chrono::seconds limit) {
    const auto start = Clock::now();
    freeze_node();
    while (Clock::now() - start < limit && router_routes() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

std::string GeneratedLab::logs() const {
    return "node BIRD:\n" + read_text_file(node_bird->log_path()) + "\nrouter BIRD:\n" +
           read_text_file(router_bird->log_path());
}

}  // namespace anycast::test
