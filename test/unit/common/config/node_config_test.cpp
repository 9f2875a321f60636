#include "common/json_reader.hpp"
#include "common/config/node_config_loader.hpp"

#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace anycast::common;

namespace {

NodeConfig parse(std::string_view text) { return parse_node_config(parse_json(text, "test"), "cfg.json"); }

// Sets an environment variable for one scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("node config: an empty object gives the documented defaults", "[unit]") {
    ScopedEnv env("NODE_NAME", "worker-9");
    const NodeConfig config = parse("{}");
    CHECK(config.node == "worker-9");
    CHECK(config.state_dir == "/run/flock-anycast");
    CHECK(config.policy.allowed_prefixes.empty());
    CHECK(config.policy.namespaces.empty());
    CHECK(config.annotation == "anycast.flock.io/ips");
    CHECK(config.kubeconfig.empty());
    CHECK(config.routes.protocol == 241);
    CHECK(config.routes.table == 241);
    CHECK(config.routes.rule_priority == 1000);
    CHECK(config.readiness.source == ReadinessSourceKind::kubernetes);
    CHECK(config.readiness.file == "/run/flock-anycast/pods.json");
    CHECK(config.bird.enabled);
    CHECK(config.bird.fragment == "/etc/bird/flock-anycast.conf");
    CHECK(config.bird.socket == "/run/bird/bird.ctl");
    CHECK(config.resync_seconds == 30);
    CHECK(config.metrics.listen == "127.0.0.1:9641");
    CHECK(config.log_file.empty());
    CHECK(config.log_level == "info");
}

TEST_CASE("node config: every documented field is read", "[unit]") {
    const NodeConfig config = parse(R"({
      "node": "worker-1", "stateDir": "/tmp/s",
      "policy": { "allowedPrefixes": ["10.255.0.0/16", "fd00:255::/48"],
                  "namespaces": { "dns": ["10.255.53.0/24"], "none": [] } },
      "annotation": "a/b", "kubeconfig": "/k",
      "routes": { "protocol": 200, "table": 254, "rulePriority": 77 },
      "readiness": { "source": "file", "file": "/tmp/p.json" },
      "bird": { "enabled": false, "fragment": "/tmp/f", "socket": "/tmp/s.ctl" },
      "resyncSeconds": 5, "metrics": { "listen": "" },
      "logFile": "/tmp/log", "logLevel": "debug", "unknownField": [1, 2] })");
    CHECK(config.node == "worker-1");
    CHECK(config.state_dir == "/tmp/s");
    REQUIRE(config.policy.allowed_prefixes.size() == 2);
    CHECK(config.policy.allowed_prefixes[1].to_string() == "fd00:255::/48");
    REQUIRE(config.policy.namespaces.size() == 2);
    CHECK(config.policy.namespaces.at("dns").at(0).to_string() == "10.255.53.0/24");
    CHECK(config.policy.namespaces.at("none").empty());
    CHECK(config.annotation == "a/b");
    CHECK(config.kubeconfig == "/k");
    CHECK(config.routes.protocol == 200);
    CHECK(config.routes.table == 254);
    CHECK(config.routes.rule_priority == 77);
    CHECK(config.readiness.source == ReadinessSourceKind::file);
    CHECK(config.readiness.file == "/tmp/p.json");
    CHECK_FALSE(config.bird.enabled);
    CHECK(config.bird.fragment == "/tmp/f");
    CHECK(config.bird.socket == "/tmp/s.ctl");
    CHECK(config.resync_seconds == 5);
    CHECK(config.metrics.listen.empty());
    CHECK(config.log_file == "/tmp/log");
    CHECK(config.log_level == "debug");
}

TEST_CASE("node config: errors name the source and the field", "[unit]") {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {R"([])", "cfg.json: (top level): expected an object, got an array"},
        {R"({"node": 5})", "cfg.json: node: expected a string, got an integer"},
        {R"({"stateDir": ""})", "cfg.json: stateDir: must not be empty"},
        {R"({"policy": {"allowedPrefixes": ["10.0.0.0/8", "10.0.0.1/8"]}})",
         "cfg.json: policy.allowedPrefixes[1]: not an IP prefix: \"10.0.0.1/8\""},
        {R"({"policy": {"allowedPrefixes": "10.0.0.0/8"}})",
         "cfg.json: policy.allowedPrefixes: expected an array, got a string"},
        {R"({"policy": {"namespaces": {"dns": ["x"]}}})", "cfg.json: policy.namespaces.dns[0]: not an IP prefix"},
        {R"({"routes": {"protocol": 300}})", "cfg.json: routes.protocol: 300 is out of range [5, 255]"},
        {R"({"routes": {"table": 255}})", "cfg.json: routes.table: 255 is the kernel's local table"},
        {R"({"routes": {"table": "x"}})", "cfg.json: routes.table: expected an integer, got a string"},
        {R"({"routes": {"ecmp": "random"}})", "cfg.json: routes.ecmp: unknown ECMP mode \"random\""},
        {R"({"routes": {"resilientBuckets": 8}})", "cfg.json: routes.resilientBuckets: 8 is out of range [16, 65535]"},
        {R"({"routes": {"resilientIdleSeconds": -1}})", "cfg.json: routes.resilientIdleSeconds: -1 is out of range"},
        {R"({"readiness": {"source": "magic"}})", "cfg.json: readiness.source: unknown readiness source \"magic\""},
        {R"({"bird": {"enabled": "yes"}})", "cfg.json: bird.enabled: expected a boolean, got a string"},
        {R"({"resyncSeconds": 0})", "cfg.json: resyncSeconds: 0 is out of range"},
        {R"({"metrics": []})", "cfg.json: metrics: expected an object, got an array"},
        {R"({"logLevel": "loud"})", "cfg.json: logLevel: unknown log level \"loud\""},
        {R"({"logFile": true})", "cfg.json: logFile: expected a string, got a boolean"},
        {R"({"drain": {"watchNode": "yes"}})", "cfg.json: drain.watchNode: expected a boolean, got a string"},
        {R"({"readiness": {"source": "file"}, "drain": {"watchNode": true}})",
         "cfg.json: drain.watchNode: true needs readiness.source \"kubernetes\""},
        {R"({"drain": {"taints": "maint"}})", "cfg.json: drain.taints: expected an array, got a string"},
        {R"({"drain": {"taints": [""]}})", "cfg.json: drain.taints[0]: \"\": expected a taint key"},
        {R"({"drain": {"taints": ["a=b:NoSchedule"]}})", "cfg.json: drain.taints[0]: \"a=b:NoSchedule\": expected"},
        {R"({"drain": {"taints": ["maint:Never"]}})", "cfg.json: drain.taints[0]: unknown taint effect \"Never\""},
        {R"({"drain": {"taints": ["maint", "maint"]}})", "cfg.json: drain.taints[1]: listed twice"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK_THROWS_WITH(parse(c.text), Catch::StartsWith(c.message));
    }
}

TEST_CASE("node config: drain.taints and drain.watchNode, defaulted by the readiness source", "[unit]") {
    const NodeConfig kube = parse(R"({"drain": {"taints": ["example.com/maint", "example.com/evict:NoExecute"]}})");
    CHECK(kube.drain.taints == std::vector<DrainTaint>{{"example.com/maint", ""}, {"example.com/evict", "NoExecute"}});
    CHECK_FALSE(kube.drain.watch_node.has_value());
    CHECK(watches_node(kube));
    CHECK_FALSE(watches_node(parse(R"({"readiness": {"source": "file"}})")));
    CHECK_FALSE(watches_node(parse(R"({"drain": {"watchNode": false}})")));
    CHECK_FALSE(watches_node(parse(R"({"readiness": {"source": "always"}, "drain": {"watchNode": false}})")));
}

TEST_CASE("node config: node comes from $NODE_NAME, then the hostname", "[unit]") {
    {
        ScopedEnv env("NODE_NAME", "from-env");
        CHECK(default_node_name() == "from-env");
        CHECK(parse(R"({"node": "explicit"})").node == "explicit");
    }
    ScopedEnv env("NODE_NAME", nullptr);
    char host[256] = {};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    CHECK(default_node_name() == host);
    CHECK(parse("{}").node == host);
}

TEST_CASE("node config: load_node_config names the file when it is missing or broken", "[unit]") {
    const anycast::test::TempDir dir("nc");
    const std::string missing = dir.file("missing.json");
    CHECK_THROWS_WITH(load_node_config(missing), missing + ": cannot open: No such file or directory");

    const std::string broken = dir.file("broken.json");
    std::ofstream(broken) << "{\"node\": ";
    CHECK_THROWS_WITH(load_node_config(broken), Catch::StartsWith(broken + ": invalid JSON"));

    const std::string good = dir.file("good.json");
    std::ofstream(good) << R"({"node": "n1", "routes": {"table": 7}})";
    const NodeConfig config = load_node_config(good);
    CHECK(config.node == "n1");
    CHECK(config.routes.table == 7);
    CHECK(config.routes.protocol == 241);

    const std::string bad_field = dir.file("bad.json");
    std::ofstream(bad_field) << R"({"routes": {"table": -1}})";
    CHECK_THROWS_WITH(load_node_config(bad_field), Catch::StartsWith(bad_field + ": routes.table: -1 is out of range"));
}

TEST_CASE("node config: merge_config lets inline fields win, recursively for objects", "[unit]") {
    const auto base = parse_json(R"({"node": "a", "routes": {"table": 1, "protocol": 200},
                                     "policy": {"allowedPrefixes": ["10.0.0.0/8"]}})",
                                 "base");
    const auto overrides = parse_json(R"({"routes": {"table": 2}, "policy": {"allowedPrefixes": []},
                                          "stateDir": "/x"})",
                                      "over");
    const auto merged = merge_config(base, overrides);
    CHECK(boost::json::serialize(merged) ==
          R"({"node":"a","routes":{"table":2,"protocol":200},"policy":{"allowedPrefixes":[]},"stateDir":"/x"})");
    // Arrays replace, never concatenate: an inline policy list is the whole list.
    CHECK(merged.at("policy").at("allowedPrefixes").as_array().empty());
}
