// The deployment examples stay valid and agree with each other and with the code: the
// Kubernetes manifests (yaml-cpp, multi-document), the CNI install script run against a fake
// host root, the example node configs (the real loader), the systemd unit and rt_protos entry.
#include "common/ip_address.hpp"
#include "common/json_reader.hpp"
#include "common/config/node_config_loader.hpp"
#include "common/config/policy.hpp"
#include "test/support/source_tree.hpp"
#include "test/support/temp_dir.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;
using anycast::common::load_node_config;

namespace {

using anycast::test::read_file;

const fs::path k_examples = anycast::test::k_source_dir / "examples";

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::vector<YAML::Node> load_documents(const std::string& file) {
    std::vector<YAML::Node> docs;
    for (const auto& doc : YAML::LoadAllFromFile((k_examples / "k8s" / file).string())) {
        if (!doc.IsNull()) docs.push_back(doc);
    }
    return docs;
}

YAML::Node find_kind(const std::string& file, const std::string& kind) {
    for (const auto& doc : load_documents(file)) {
        if (doc["kind"].as<std::string>() == kind) return doc;
    }
    FAIL(file << " has no " << kind);
    return {};
}

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
    for (const auto& item : list) {
        if (item["name"] && item["name"].as<std::string>() == name) return item;
    }
    FAIL("no entry named " << name);
    return {};
}

std::set<std::string> strings_of(const YAML::Node& list) {
    std::set<std::string> out;
    for (const auto& item : list) out.insert(item.as<std::string>());
    return out;
}

YAML::Node configmap() { return find_kind("configmap.yaml", "ConfigMap"); }

json::value configmap_json(const std::string& key) {
    return anycast::common::parse_json(configmap()["data"][key].as<std::string>(), key);
}

struct Command {
    int status = -1;
    std::string output;  // stdout and stderr
};

Command run(const std::string& command) {
    Command result;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
    const int raw = ::pclose(pipe);
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return result;
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

// The host's glibc loader in a FakeHost, which install-cni.sh runs the plugin with.
enum class HostLoader {
    runs,     // glibc 2.36: runs the plugin
    too_old,  // glibc 2.31: refuses it, as a real loader does when a symbol version is missing
    missing,  // no /lib64/ld-linux-x86-64.so.2
};

// A glibc loader as install-cni.sh runs it: `--version`, or `--library-path DIRS PROGRAM ARGS`
// (recorded in args_file), which runs PROGRAM or fails as glibc 2.31's loader does on our binary.
std::string fake_loader(bool runs, const fs::path& args_file) {
    const std::string version = runs ? "2.36" : "2.31";
    std::string script = "#!/bin/sh\nif [ \"$1\" = --version ]; then\n";
    script += "  echo 'ld.so (Debian GLIBC " + version + "-9) stable release version " + version + ".'\n";
    script += "  exit 0\nfi\n";
    script += "printf '%s\\n' \"$@\" > '" + args_file.string() + "'\n";
    script += runs ? "shift 2\nexec \"$@\"\n"
                   : "echo \"$3: /lib/x86_64-linux-gnu/libc.so.6: version \\`GLIBC_2.34' not found\" >&2\nexit 1\n";
    return script;
}

// A scratch "host" for install-cni.sh: /opt/cni/bin, /etc/cni/net.d, /etc/flock-anycast, and a
// loader laid out as Debian's (/lib64/ld-linux-x86-64.so.2, an absolute link into
// /lib/x86_64-linux-gnu), a shell script that records its arguments and execs the plugin (the
// plugin here is a script too; the real binary on a glibc-only root: portability_test.cpp).
class FakeHost {
public:
    explicit FakeHost(HostLoader loader = HostLoader::runs) {
        for (const char* key : {"install-cni.sh", "config.json", "cni-entry.json"}) {
            write_file(dir_ / "source" / key, configmap()["data"][key].as<std::string>());
        }
        write_file(dir_ / "flock-anycast", "#!/bin/sh\necho fake plugin\n");
        write_file(dir_ / "libmnl.so.0", "fake libmnl\n");
        fs::create_directories(net_d());
        if (loader == HostLoader::missing) return;
        const fs::path real = host() / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
        write_file(real, fake_loader(loader == HostLoader::runs, dir_ / "loader-args"));
        fs::permissions(real, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
        fs::create_directories(host() / "lib64");
        fs::create_symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", host() / "lib64/ld-linux-x86-64.so.2");
    }
    FakeHost(const FakeHost&) = delete;
    FakeHost& operator=(const FakeHost&) = delete;

    fs::path net_d() const { return dir_ / "host/etc/cni/net.d"; }
    fs::path host() const { return dir_ / "host"; }
    // The loader's arguments in its last run, one a line.
    std::string loader_args() const { return read_file(dir_ / "loader-args"); }
    // An image without libmnl.so.0, as packaging/Containerfile makes it: the plugin is static.
    void remove_image_libmnl() const { fs::remove(dir_ / "libmnl.so.0"); }

    Command install() const {
        const std::string d = dir_.string();
        return run("env HOST_ROOT=" + d + "/host SOURCE_DIR=" + d + "/source FLOCK_BINARY=" + d +
                   "/flock-anycast FLOCK_LIBMNL=" + d +
                   "/libmnl.so.0 KUBERNETES_SERVICE_HOST=10.96.0.1 "
                   "KUBERNETES_SERVICE_PORT=443 WAIT_SECONDS=0 sh " +
                   d + "/source/install-cni.sh");
    }

    std::vector<std::string> flock_files() const { return names_in(dir_ / "host/etc/flock-anycast"); }
    std::vector<std::string> net_d_files() const { return names_in(net_d()); }

private:
    anycast::test::TempDir temp_{"manifests"};
    fs::path dir_ = temp_.path();
};

const char* k_main_conflist = R"({"cniVersion":"1.0.0","name":"k8s-pod-network","plugins":[
  {"type":"ptp","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"}]]}},
  {"type":"portmap","capabilities":{"portMappings":true}}]})";

}  // namespace

TEST_CASE("every manifest parses as YAML and holds the expected kinds", "[unit]") {
    const std::map<std::string, std::multiset<std::string>> expected = {
        {"configmap.yaml", {"ConfigMap"}},
        {"daemonset.yaml", {"DaemonSet"}},
        {"workload.yaml", {"Namespace", "ConfigMap", "Deployment"}},
        {"rbac.yaml", {"ServiceAccount", "ClusterRole", "ClusterRoleBinding"}},
    };
    std::set<std::string> seen;
    for (const auto& entry : fs::directory_iterator(k_examples / "k8s")) {
        const std::string name = entry.path().filename();
        if (entry.path().extension() != ".yaml") continue;
        INFO(name);
        seen.insert(name);
        REQUIRE(expected.count(name) == 1);  // a new manifest gets an entry above
        std::multiset<std::string> kinds;
        for (const auto& doc : load_documents(name)) {
            CHECK(doc["apiVersion"].IsScalar());
            CHECK_FALSE(doc["metadata"]["name"].as<std::string>().empty());
            kinds.insert(doc["kind"].as<std::string>());
        }
        CHECK(kinds == expected.at(name));
    }
    for (const auto& [name, kinds] : expected) {
        INFO(name);
        CHECK(seen.count(name) == 1);
    }
}

TEST_CASE("the DaemonSet runs serve on the host network with NET_ADMIN and SYS_ADMIN, not privileged", "[unit]") {
    const auto ds = find_kind("daemonset.yaml", "DaemonSet");
    CHECK(ds["metadata"]["namespace"].as<std::string>() == "kube-system");
    const auto pod = ds["spec"]["template"]["spec"];
    CHECK(pod["hostNetwork"].as<bool>());
    CHECK(ds["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>() ==
          ds["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"].as<std::string>());

    const auto agent = find_named(pod["containers"], "agent");
    CHECK(agent["args"][0].as<std::string>() == "serve");
    const auto security = agent["securityContext"];
    CHECK_FALSE((security["privileged"] && security["privileged"].as<bool>()));
    CHECK(strings_of(security["capabilities"]["add"]) == std::set<std::string>{"NET_ADMIN", "SYS_ADMIN"});
    CHECK(strings_of(security["capabilities"]["drop"]) == std::set<std::string>{"ALL"});

    const auto node_name = find_named(agent["env"], "NODE_NAME");
    CHECK(node_name["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() == "spec.nodeName");

    // The probes reach metrics.listen of the node config in the ConfigMap.
    const auto config = anycast::common::parse_node_config(configmap_json("config.json"), "configmap");
    const auto colon = config.metrics.listen.rfind(':');
    const std::string listen_host = config.metrics.listen.substr(0, colon);
    const int listen_port = std::stoi(config.metrics.listen.substr(colon + 1));
    for (const auto& [probe, path] : {std::pair{"livenessProbe", "/healthz"}, std::pair{"readinessProbe", "/readyz"}}) {
        INFO(probe);
        const auto get = agent[probe]["httpGet"];
        CHECK(get["path"].as<std::string>() == path);
        CHECK(get["port"].as<int>() == listen_port);
        CHECK(get["host"].as<std::string>() == listen_host);
    }

    // Host paths: the mounts the plugin (on the host) and serve (here) must share, by path.
    std::map<std::string, std::string> host_paths;  // volume → host path
    for (const auto& volume : pod["volumes"]) {
        if (volume["hostPath"])
            host_paths[volume["name"].as<std::string>()] = volume["hostPath"]["path"].as<std::string>();
    }
    std::map<std::string, std::string> agent_mounts;  // host path → mount path
    for (const auto& mount : agent["volumeMounts"]) {
        const auto it = host_paths.find(mount["name"].as<std::string>());
        if (it != host_paths.end()) agent_mounts[it->second] = mount["mountPath"].as<std::string>();
    }
    for (const std::string& path : {config.state_dir, std::string("/etc/flock-anycast")}) {
        INFO(path);
        REQUIRE(agent_mounts.count(path) == 1);
        CHECK(agent_mounts.at(path) == path);
    }

    // The init container installs into the host's CNI directories from the ConfigMap.
    const auto init = find_named(pod["initContainers"], "install-cni");
    std::set<std::string> init_host_paths;
    for (const auto& mount : init["volumeMounts"]) {
        const auto it = host_paths.find(mount["name"].as<std::string>());
        if (it != host_paths.end()) init_host_paths.insert(it->second);
    }
    CHECK(init_host_paths ==
          std::set<std::string>{"/opt/cni/bin", "/etc/cni/net.d", "/etc/flock-anycast", "/lib", "/lib64", "/usr"});
    // The host's libraries only to run the plugin once: read only.
    for (const auto& mount : init["volumeMounts"]) {
        const std::string name = mount["name"].as<std::string>();
        if (name.rfind("host-lib", 0) == 0 || name == "host-usr") CHECK(mount["readOnly"].as<bool>());
    }
    CHECK_FALSE((init["securityContext"]["privileged"] && init["securityContext"]["privileged"].as<bool>()));
    CHECK(find_named(pod["volumes"], "install")["configMap"]["name"].as<std::string>() ==
          configmap()["metadata"]["name"].as<std::string>());
    // The plugin holds no credentials: no Secret is mounted anywhere.
    for (const auto& volume : pod["volumes"]) CHECK_FALSE(volume["secret"]);
}

TEST_CASE("BIRD runs in the agent's pod from the generated bird.conf, sharing /run/bird with serve only", "[unit]") {
    const auto pod = find_kind("daemonset.yaml", "DaemonSet")["spec"]["template"]["spec"];
    const auto config = anycast::common::parse_node_config(configmap_json("config.json"), "configmap");
    REQUIRE(config.bgp.enabled());
    const fs::path shared = "/run/bird";
    CHECK(fs::path(config.bird.config).parent_path() == shared);
    CHECK(fs::path(config.bird.fragment).parent_path() == shared);
    CHECK(fs::path(config.bird.socket).parent_path() == shared);
    CHECK(find_named(pod["volumes"], "bird-run")["emptyDir"]);  // nothing of BIRD's on the host

    // The same emptyDir at the same path in the three containers that use it.
    const auto mounts_bird_run = [&](const YAML::Node& container) {
        for (const auto& mount : container["volumeMounts"]) {
            if (mount["name"].as<std::string>() == "bird-run") return mount["mountPath"].as<std::string>() == shared;
        }
        return false;
    };
    const auto init = find_named(pod["initContainers"], "bird-config");
    const auto bird = find_named(pod["containers"], "bird");
    CHECK(mounts_bird_run(init));
    CHECK(mounts_bird_run(bird));
    CHECK(mounts_bird_run(find_named(pod["containers"], "agent")));

    // bird-config writes where BIRD reads; BIRD's socket is where serve sends `configure`.
    const auto args = init["args"];
    CHECK(args[0].as<std::string>() == "bird-config");
    CHECK(args[4].as<std::string>() == config.bird.config);
    const auto command = bird["command"];
    CHECK(command[0].as<std::string>() == "bird");
    CHECK(command[2].as<std::string>() == "-c");
    CHECK(command[3].as<std::string>() == config.bird.config);
    CHECK(command[4].as<std::string>() == "-s");
    CHECK(command[5].as<std::string>() == config.bird.socket);
    CHECK(strings_of(bird["securityContext"]["capabilities"]["add"]) == std::set<std::string>{"NET_BIND_SERVICE"});
    CHECK(strings_of(bird["securityContext"]["capabilities"]["drop"]) == std::set<std::string>{"ALL"});
}

TEST_CASE("the DaemonSet's service account is rbac.yaml's, allowed exactly what serve does", "[unit]") {
    const auto pod = find_kind("daemonset.yaml", "DaemonSet")["spec"]["template"]["spec"];
    const auto account = find_kind("rbac.yaml", "ServiceAccount");
    CHECK(account["metadata"]["name"].as<std::string>() == "flock-anycast");
    CHECK(account["metadata"]["namespace"].as<std::string>() == "kube-system");
    CHECK(pod["serviceAccountName"].as<std::string>() == account["metadata"]["name"].as<std::string>());
    CHECK(find_kind("daemonset.yaml", "DaemonSet")["metadata"]["namespace"].as<std::string>() ==
          account["metadata"]["namespace"].as<std::string>());

    const auto role = find_kind("rbac.yaml", "ClusterRole");
    // Resource → verbs over every rule: nothing more than these.
    std::map<std::string, std::set<std::string>> granted;
    for (const auto& rule : role["rules"]) {
        CHECK(strings_of(rule["apiGroups"]) == std::set<std::string>{""});
        for (const auto& resource : strings_of(rule["resources"])) {
            for (const auto& verb : strings_of(rule["verbs"])) granted[resource].insert(verb);
        }
    }
    CHECK(granted == std::map<std::string, std::set<std::string>>{
                         {"pods", {"get", "list", "watch"}},   // the watch and the plugin's lookups
                         {"pods/status", {"patch"}},           // the readiness gate's condition
                         {"events", {"create"}},               // AnycastAnnounced, ...Withdrawn, ...Refused
                         {"nodes", {"get", "list", "watch"}},  // drain.watchNode: its own Node object
                     });

    const auto binding = find_kind("rbac.yaml", "ClusterRoleBinding");
    CHECK(binding["roleRef"]["name"].as<std::string>() == role["metadata"]["name"].as<std::string>());
    bool bound = false;
    for (const auto& subject : binding["subjects"]) {
        bound = bound || (subject["kind"].as<std::string>() == "ServiceAccount" &&
                          subject["name"].as<std::string>() == "flock-anycast" &&
                          subject["namespace"].as<std::string>() == "kube-system");
    }
    CHECK(bound);
}

TEST_CASE("the ConfigMap's node config is examples/config/kubernetes.json and its plugin entry chains us", "[unit]") {
    const auto in_configmap = configmap_json("config.json");
    const auto example = anycast::common::parse_json(read_file(k_examples / "config/kubernetes.json"), "example");
    CHECK(in_configmap == example);
    CHECK_FALSE(in_configmap.as_object().contains("node"));  // serve takes $NODE_NAME

    const auto entry = configmap_json("cni-entry.json").as_object();
    CHECK(entry.at("type") == "flock-anycast");
    CHECK(entry.at("configFile") == "/etc/flock-anycast/config.json");
    CHECK(entry.at("capabilities").at("anycastIPs") == true);
}

TEST_CASE("the example workload's anycast IPs are allowed for its namespace by the example policy", "[unit]") {
    const auto config = anycast::common::parse_node_config(configmap_json("config.json"), "configmap");
    const auto deployment = find_kind("workload.yaml", "Deployment");
    const std::string ns = deployment["metadata"]["namespace"].as<std::string>();
    const auto annotations = deployment["spec"]["template"]["metadata"]["annotations"];
    REQUIRE(annotations[config.annotation]);
    std::stringstream ips(annotations[config.annotation].as<std::string>());
    int count = 0;
    for (std::string ip; std::getline(ips, ip, ',');) {
        INFO(ip);
        const auto address = anycast::common::IpAddress::parse(ip);
        REQUIRE(address);
        CHECK(anycast::common::policy_refusal(config.policy, ns, *address) == std::nullopt);
        ++count;
    }
    CHECK(count == 2);
    CHECK(deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]);
}

TEST_CASE("install-cni.sh chains flock-anycast in a conflist of its own and leaves the main one alone", "[unit]") {
    REQUIRE(run("command -v jq").status == 0);  // test/install-deps.sh installs it
    FakeHost host;
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    write_file(host.net_d() / "README", "not a config");

    const auto first = host.install();
    INFO(first.output);
    REQUIRE(first.status == 0);
    CHECK(host.net_d_files() == std::vector<std::string>{"00-flock-anycast.conflist", "10-ptp.conflist", "README"});
    CHECK(read_file(host.net_d() / "10-ptp.conflist") == k_main_conflist);

    const auto chain = anycast::common::parse_json(read_file(host.net_d() / "00-flock-anycast.conflist"), "chain");
    const auto main = anycast::common::parse_json(k_main_conflist, "main");
    CHECK(chain.at("name") == main.at("name"));
    CHECK(chain.at("cniVersion") == main.at("cniVersion"));
    const auto& plugins = chain.at("plugins").as_array();
    REQUIRE(plugins.size() == 3);
    CHECK(plugins[0] == main.at("plugins").as_array()[0]);
    CHECK(plugins[1] == main.at("plugins").as_array()[1]);
    CHECK(plugins[2] == configmap_json("cni-entry.json"));

    struct stat st {};
    REQUIRE(::stat((host.host() / "opt/cni/bin/flock-anycast").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);
    CHECK(read_file(host.host() / "etc/flock-anycast/config.json") ==
          configmap()["data"]["config.json"].as<std::string>());
    // No credentials on the host: the plugin asks serve.
    CHECK_FALSE(configmap_json("cni-entry.json").as_object().contains("kubeconfig"));
    CHECK(host.flock_files() == std::vector<std::string>{"config.json"});

    // A restart of the agent pod runs it again: same result, nothing else touched.
    const std::string before = read_file(host.net_d() / "00-flock-anycast.conflist");
    REQUIRE(host.install().status == 0);
    CHECK(read_file(host.net_d() / "00-flock-anycast.conflist") == before);
    CHECK(read_file(host.net_d() / "10-ptp.conflist") == k_main_conflist);
}

TEST_CASE("install-cni.sh removes the credentials an earlier version gave the plugin", "[unit]") {
    FakeHost host;
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    for (const char* old : {"cni-token", "cni-ca.crt", "cni-kubeconfig"}) {
        write_file(host.host() / "etc/flock-anycast" / old, "old\n");
    }
    const auto result = host.install();
    INFO(result.output);
    REQUIRE(result.status == 0);
    CHECK(host.flock_files() == std::vector<std::string>{"config.json"});
    CHECK(result.output.find("the plugin needs no credentials") != std::string::npos);
}

TEST_CASE("install-cni.sh turns a single-plugin .conf into a chain", "[unit]") {
    FakeHost host;
    const std::string conf = R"({"cniVersion":"0.4.0","name":"bridge-net","type":"bridge","bridge":"cni0"})";
    write_file(host.net_d() / "10-bridge.conf", conf);
    REQUIRE(host.install().status == 0);
    const auto chain = anycast::common::parse_json(read_file(host.net_d() / "00-flock-anycast.conflist"), "chain");
    CHECK(chain.at("name") == "bridge-net");
    const auto& plugins = chain.at("plugins").as_array();
    REQUIRE(plugins.size() == 2);
    CHECK(plugins[0] == anycast::common::parse_json(conf, "conf"));
    CHECK(plugins[1].at("type") == "flock-anycast");
    CHECK(read_file(host.net_d() / "10-bridge.conf") == conf);
}

TEST_CASE("install-cni.sh writes no chain when the main config already chains flock-anycast", "[unit]") {
    FakeHost host;
    const std::string chained =
        R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"ptp"},{"type":"flock-anycast"}]})";
    write_file(host.net_d() / "10-net.conflist", chained);
    write_file(host.net_d() / "00-flock-anycast.conflist", "stale");
    const auto result = host.install();
    INFO(result.output);
    REQUIRE(result.status == 0);
    CHECK(host.net_d_files() == std::vector<std::string>{"10-net.conflist"});
    CHECK(read_file(host.net_d() / "10-net.conflist") == chained);
}

TEST_CASE("install-cni.sh refuses when the main config sorts before its chain file", "[unit]") {
    FakeHost host;
    write_file(host.net_d() / "00-cilium.conflist", k_main_conflist);
    const auto result = host.install();
    CHECK(result.status == 1);
    CHECK_THAT(result.output, Catch::Contains("00-cilium.conflist sorts before 00-flock-anycast.conflist"));
    CHECK(host.net_d_files() == std::vector<std::string>{"00-cilium.conflist"});
}

TEST_CASE("install-cni.sh puts the image's libmnl beside the plugin and runs it with the host's loader", "[unit]") {
    FakeHost host;
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    const auto result = host.install();
    INFO(result.output);
    REQUIRE(result.status == 0);
    const fs::path lib = host.host() / "opt/cni/bin/flock-anycast.d/libmnl.so.0";
    CHECK(read_file(lib) == "fake libmnl\n");
    struct stat st {};
    REQUIRE(::stat(lib.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    CHECK(names_in(lib.parent_path()) == std::vector<std::string>{"libmnl.so.0"});  // no temp file left
    // The host's loader (its link followed inside the host root, not to this machine's), our
    // directory first on its library path, then the host's own.
    const std::string bin = (host.host() / "opt/cni/bin").string();
    const std::string h = host.host().string();
    CHECK(host.loader_args() == "--library-path\n" + bin + "/flock-anycast.d:" + h + "/lib/x86_64-linux-gnu:" + h +
                                    "/usr/lib/x86_64-linux-gnu:" + h + "/lib64:" + h + "/usr/lib64\n" + bin +
                                    "/flock-anycast\nversion\n");
    CHECK_THAT(result.output,
               Catch::Contains("the host runs " + bin + "/flock-anycast (fake plugin; host glibc 2.36)"));
}

TEST_CASE("install-cni.sh installs a static plugin alone, needing no host loader, and removes an earlier libmnl copy",
          "[unit]") {
    FakeHost host(HostLoader::missing);  // a static plugin needs nothing of the host's
    host.remove_image_libmnl();
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    const fs::path old_lib = host.host() / "opt/cni/bin/flock-anycast.d/libmnl.so.0";
    write_file(old_lib, "libmnl an earlier version installed\n");
    const auto result = host.install();
    INFO(result.output);
    REQUIRE(result.status == 0);
    CHECK_FALSE(fs::exists(old_lib.parent_path()));
    CHECK_THAT(result.output, Catch::Contains("removed " + old_lib.string() + ": the plugin is static"));
    CHECK_THAT(result.output,
               Catch::Contains("installed a static plugin, which needs no library from the host (fake plugin)"));
    CHECK(names_in(host.host() / "opt/cni/bin") == std::vector<std::string>{"flock-anycast"});
    CHECK(host.net_d_files() == std::vector<std::string>{"00-flock-anycast.conflist", "10-ptp.conflist"});
}

TEST_CASE("install-cni.sh refuses a host whose glibc cannot run the plugin, and names its version", "[unit]") {
    FakeHost host(HostLoader::too_old);
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    const auto result = host.install();
    CHECK(result.status == 1);
    CHECK_THAT(result.output, Catch::Contains("cannot run " + (host.host() / "opt/cni/bin/flock-anycast").string() +
                                              ": host glibc 2.31, the plugin needs glibc >= 2.36 (x86-64)"));
    CHECK_THAT(result.output, Catch::Contains("GLIBC_2.34' not found"));
    // No chain: the runtime never calls a plugin that cannot run.
    CHECK(host.net_d_files() == std::vector<std::string>{"10-ptp.conflist"});
}

TEST_CASE("install-cni.sh refuses when it cannot find the host's loader", "[unit]") {
    FakeHost host(HostLoader::missing);
    write_file(host.net_d() / "10-ptp.conflist", k_main_conflist);
    const auto result = host.install();
    CHECK(result.status == 1);
    CHECK_THAT(result.output, Catch::Contains("cannot check that this host can run the plugin (it needs glibc >= 2.36, "
                                              "x86-64): no loader at " +
                                              (host.host() / "lib64/ld-linux-x86-64.so.2").string()));
    CHECK(host.net_d_files() == std::vector<std::string>{"10-ptp.conflist"});
}

TEST_CASE("every example node config loads with the real loader", "[unit]") {
    int configs = 0;
    for (const auto& entry : fs::directory_iterator(k_examples / "config")) {
        if (entry.path().extension() != ".json") continue;
        INFO(entry.path().string());
        const auto doc = anycast::common::parse_json(read_file(entry.path()), entry.path().string());
        if (doc.is_array()) {
            // A readiness file for the "file" source: [{namespace, name, uid, ready, deleting}].
            for (const auto& pod : doc.as_array()) {
                for (const char* key : {"namespace", "name", "uid", "ready", "deleting"}) {
                    CHECK(pod.as_object().contains(key));
                }
            }
            continue;
        }
        const auto config = load_node_config(entry.path().string());
        CHECK_FALSE(config.policy.allowed_prefixes.empty());
        ++configs;
    }
    CHECK(configs >= 2);
    const auto file_config = load_node_config((k_examples / "config/file-readiness.json").string());
    CHECK(file_config.readiness.source == anycast::common::ReadinessSourceKind::file);
    CHECK(file_config.node == "edge-1");
    const auto kube_config = load_node_config((k_examples / "config/kubernetes.json").string());
    CHECK(kube_config.readiness.source == anycast::common::ReadinessSourceKind::kubernetes);
}

TEST_CASE("the systemd unit runs serve with CAP_NET_ADMIN and the rt_protos entry names our protocol", "[unit]") {
    const std::string unit = read_file(k_examples / "systemd/flock-anycast.service");
    std::map<std::string, std::string> settings;
    std::istringstream lines(unit);
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (line.empty() || line[0] == '#' || line[0] == '[' || eq == std::string::npos) continue;
        settings[line.substr(0, eq)] = line.substr(eq + 1);
    }
    CHECK_THAT(settings["ExecStart"], Catch::Contains(" serve --config /etc/flock-anycast/config.json"));
    CHECK_THAT(settings["CapabilityBoundingSet"], Catch::Contains("CAP_NET_ADMIN"));
    CHECK_THAT(settings["RestrictAddressFamilies"], Catch::Contains("AF_NETLINK"));
    CHECK(settings["NoNewPrivileges"] == "yes");
    // serve sends READY=1 over $NOTIFY_SOCKET (AF_UNIX) after its first pass.
    CHECK(settings["Type"] == "notify");
    CHECK_THAT(settings["RestrictAddressFamilies"], Catch::Contains("AF_UNIX"));
    CHECK(settings.count("PrivateNetwork") == 0);  // it must see the host's routes
    CHECK(settings["RuntimeDirectory"] == "flock-anycast");
    CHECK(settings["RuntimeDirectoryPreserve"] == "yes");  // the CNI plugin writes there while serve is down
    // RuntimeDirectory= is /run/<name>: the default stateDir.
    const auto defaults = std::make_unique<anycast::common::NodeConfig>();
    CHECK(defaults->state_dir == "/run/flock-anycast");

    const std::string protos = read_file(k_examples / "iproute2/rt_protos.d/flock-anycast.conf");
    std::istringstream proto_lines(protos);
    std::vector<std::string> entries;
    for (std::string line; std::getline(proto_lines, line);) {
        if (!line.empty() && line[0] != '#') entries.push_back(line);
    }
    REQUIRE(entries.size() == 1);
    std::istringstream fields(entries[0]);
    int number = 0;
    std::string name;
    fields >> number >> name;
    CHECK(number == anycast::common::RouteSettings{}.protocol);
    CHECK(name == "flock-anycast");
}
