// kubeconfig and in-cluster configuration, and the rotating bearer token.
#include "common/kube/kube_config.hpp"

#include <catch2/catch.hpp>

#include <boost/beast/core/detail/base64.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace anycast::common::kube;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "flock-kubecfg-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        const auto file = path / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file.string();
    }
};

std::string base64(const std::string& text) {
    namespace b64 = boost::beast::detail::base64;
    std::string out(b64::encoded_size(text.size()), '\0');
    out.resize(b64::encode(out.data(), text.data(), text.size()));
    return out;
}

const std::string k_ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string k_cert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string k_key = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

// Two clusters and users, so picking the current context's ones is actually tested.
std::string kubeconfig(const std::string& cluster_body, const std::string& user_body) {
    return "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
           "clusters:\n"
           "- name: other\n  cluster:\n    server: https://other.example:6443\n"
           "- name: main\n  cluster:\n" + cluster_body +
           "contexts:\n"
           "- name: dev\n  context:\n    cluster: other\n    user: other\n"
           "- name: prod\n  context:\n    cluster: main\n    user: agent\n"
           "users:\n"
           "- name: other\n  user:\n    token: not-this-one\n"
           "- name: agent\n  user:\n" + user_body;
}

}  // namespace

TEST_CASE("kubeconfig: the current context's cluster and user, with inline base64 data", "[unit][kube]") {
    TempDir dir;
    const auto path = dir.write("config", kubeconfig(
        "    server: https://api.example:6443\n    certificate-authority-data: " + base64(k_ca) + "\n",
        "    client-certificate-data: " + base64(k_cert) + "\n    client-key-data: " + base64(k_key) +
            "\n    token: s3cret\n"));
    auto config = load_kubeconfig(path);
    CHECK(config.host == "api.example");
    CHECK(config.port == "6443");
    CHECK(config.server() == "https://api.example:6443");
    CHECK(config.ca_pem == k_ca);
    CHECK(config.client_cert_pem == k_cert);
    CHECK(config.client_key_pem == k_key);
    CHECK(config.token.value() == "s3cret");
    CHECK_FALSE(config.insecure_skip_tls_verify);
}

TEST_CASE("kubeconfig: file paths are relative to the kubeconfig's directory", "[unit][kube]") {
    TempDir dir;
    dir.write("pki/ca.crt", k_ca);
    dir.write("pki/agent.crt", k_cert);
    dir.write("pki/agent.key", k_key);
    dir.write("pki/token", "file-token\n");
    const auto path = dir.write("kube/config", kubeconfig(
        "    server: https://[fd00::1]:8443/prefix/\n    certificate-authority: ../pki/ca.crt\n",
        "    client-certificate: ../pki/agent.crt\n    client-key: ../pki/agent.key\n    tokenFile: ../pki/token\n"));
    auto config = load_kubeconfig(path);
    CHECK(config.host == "fd00::1");
    CHECK(config.port == "8443");
    CHECK(config.base_path == "/prefix");
    CHECK(config.server() == "https://[fd00::1]:8443/prefix");
    CHECK(config.ca_pem == k_ca);
    CHECK(config.client_cert_pem == k_cert);
    CHECK(config.client_key_pem == k_key);
    CHECK(config.token.value() == "file-token");
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify is honoured", "[unit][kube]") {
    TempDir dir;
    const auto path = dir.write("config", kubeconfig("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n",
                                                     "    token: t\n"));
    auto config = load_kubeconfig(path);
    CHECK(config.insecure_skip_tls_verify);
    CHECK(config.port == "443");
}

TEST_CASE("kubeconfig: errors name the file and what is wrong", "[unit][kube]") {
    TempDir dir;
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(load_kubeconfig((dir.path / "missing").string()), Contains("missing") && Contains("No such file"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c1", kubeconfig("    server: http://plain:80\n", "    token: t\n"))),
                      Contains("only https://"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c2", kubeconfig("    server: https://a\n    certificate-authority: nope.crt\n",
                                                                 "    token: t\n"))),
                      Contains("certificate-authority") && Contains("nope.crt"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c3", kubeconfig("    server: https://a\n",
                                                                 "    client-certificate-data: " + base64(k_cert) + "\n"))),
                      Contains("client-key must be given together"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c4", "current-context: nowhere\ncontexts: []\n")),
                      Contains("no entry named \"nowhere\""));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c5", "a: [unclosed\n")), Contains("c5"));
}

TEST_CASE("in-cluster: service host and port from the environment, token and CA from the account dir",
          "[unit][kube]") {
    TempDir dir;
    dir.write("ca.crt", k_ca);
    dir.write("token", "sa-token\n");
    auto config = load_in_cluster({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                                  dir.path.string());
    CHECK(config.server() == "https://10.96.0.1:443");
    CHECK(config.ca_pem == k_ca);
    CHECK(config.token.value() == "sa-token");

    auto v6 = load_in_cluster({{"KUBERNETES_SERVICE_HOST", "fd00:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}},
                              dir.path.string());
    CHECK(v6.server() == "https://[fd00:96::1]:6443");

    CHECK_THROWS_WITH(load_in_cluster({}, dir.path.string()), Catch::Matchers::Contains("KUBERNETES_SERVICE_HOST"));
    fs::remove(dir.path / "token");
    CHECK_THROWS_WITH(load_in_cluster({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}},
                                      dir.path.string()),
                      Catch::Matchers::Contains("token"));
}

TEST_CASE("a projected token is re-read when kubelet swaps it", "[unit][kube]") {
    TempDir dir;
    // kubelet's layout: token -> ..data/token, ..data -> a timestamped directory, swapped atomically.
    dir.write("..2026_11_24_10_00_00.1/token", "first\n");
    fs::create_directory_symlink("..2026_11_24_10_00_00.1", dir.path / "..data");
    fs::create_symlink("..data/token", dir.path / "token");
    auto token = BearerToken::from_file((dir.path / "token").string());
    CHECK(token.value() == "first");

    dir.write("..2026_11_24_11_00_00.2/token", "second-token\n");
    fs::create_directory_symlink("..2026_11_24_11_00_00.2", dir.path / "..data_tmp");
    fs::rename(dir.path / "..data_tmp", dir.path / "..data");
    CHECK(token.value() == "second-token");
    CHECK(token.value() == "second-token");
}

TEST_CASE("a fixed token is trimmed and never changes", "[unit][kube]") {
    auto token = BearerToken::fixed(" abc \n");
    CHECK(token.value() == "abc");
    CHECK(BearerToken{}.empty());
}
