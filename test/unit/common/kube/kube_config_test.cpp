// kubeconfig and in-cluster configuration, and the rotating bearer token.
#include "common/kube/kube_config.hpp"
#include "common/kube/base64.hpp"

#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace anycast::common::kube;
using anycast::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string k_ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string k_cert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string k_key = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

// Two clusters and users, so picking the current context's ones is actually tested.
std::string kubeconfig(const std::string& cluster_body, const std::string& user_body) {
    return "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
           "clusters:\n"
           "- name: other\n  cluster:\n    server: https://other.example:6443\n"
           "- name: main\n  cluster:\n" +
           cluster_body +
           "contexts:\n"
           "- name: dev\n  context:\n    cluster: other\n    user: other\n"
           "- name: prod\n  context:\n    cluster: main\n    user: agent\n"
           "users:\n"
           "- name: other\n  user:\n    token: not-this-one\n"
           "- name: agent\n  user:\n" +
           user_body;
}

}  // namespace

TEST_CASE("kubeconfig: the current context's cluster and user, with inline base64 data", "[unit][kube]") {
    TempDir dir("kubecfg");
    const auto path =
        dir.write("config", kubeconfig("    server: https://api.example:6443\n    certificate-authority-data: " +
                                           base64_encode(k_ca) + "\n",
                                       "    client-certificate-data: " + base64_encode(k_cert) +
                                           "\n    client-key-data: " + base64_encode(k_key) + "\n    token: s3cret\n"));
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
    TempDir dir("kubecfg");
    dir.write("pki/ca.crt", k_ca);
    dir.write("pki/agent.crt", k_cert);
    dir.write("pki/agent.key", k_key);
    dir.write("pki/token", "file-token\n");
    const auto path =
        dir.write("kube/config",
                  kubeconfig("    server: https://[fd00::1]:8443/prefix/\n    certificate-authority: ../pki/ca.crt\n",
                             "    client-certificate: ../pki/agent.crt\n    client-key: ../pki/agent.key\n    "
                             "tokenFile: ../pki/token\n"));
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
    TempDir dir("kubecfg");
    const auto path = dir.write(
        "config", kubeconfig("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n", "    token: t\n"));
    auto config = load_kubeconfig(path);
    CHECK(config.insecure_skip_tls_verify);
    CHECK(config.port == "443");
}

TEST_CASE("kubeconfig: errors name the file and what is wrong", "[unit][kube]") {
    TempDir dir("kubecfg");
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(load_kubeconfig(dir.file("missing")), Contains("missing") && Contains("No such file"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c1", kubeconfig("    server: http://plain:80\n", "    token: t\n"))),
                      Contains("only https://"));
    CHECK_THROWS_WITH(
        load_kubeconfig(dir.write(
            "c2", kubeconfig("    server: https://a\n    certificate-authority: nope.crt\n", "    token: t\n"))),
        Contains("certificate-authority") && Contains("nope.crt"));
    CHECK_THROWS_WITH(
        load_kubeconfig(dir.write("c3", kubeconfig("    server: https://a\n",
                                                   "    client-certificate-data: " + base64_encode(k_cert) + "\n"))),
        Contains("client-key must be given together"));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c4", "current-context: nowhere\ncontexts: []\n")),
                      Contains("no entry named \"nowhere\""));
    CHECK_THROWS_WITH(load_kubeconfig(dir.write("c5", "a: [unclosed\n")), Contains("c5"));
}

TEST_CASE("in-cluster: service host and port from the environment, token and CA from the account dir", "[unit][kube]") {
    TempDir dir("kubecfg");
    dir.write("ca.crt", k_ca);
    dir.write("token", "sa-token\n");
    auto config =
        load_in_cluster({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, dir.path());
    CHECK(config.server() == "https://10.96.0.1:443");
    CHECK(config.ca_pem == k_ca);
    CHECK(config.token.value() == "sa-token");

    auto v6 =
        load_in_cluster({{"KUBERNETES_SERVICE_HOST", "fd00:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}, dir.path());
    CHECK(v6.server() == "https://[fd00:96::1]:6443");

    CHECK_THROWS_WITH(load_in_cluster({}, dir.path()), Catch::Matchers::Contains("KUBERNETES_SERVICE_HOST"));
    fs::remove(dir.file("token"));
    CHECK_THROWS_WITH(load_in_cluster({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}}, dir.path()),
                      Catch::Matchers::Contains("token"));
}

TEST_CASE("a projected token is re-read when kubelet swaps it", "[unit][kube]") {
    TempDir dir("kubecfg");
    // kubelet's layout: token -> ..data/token, ..data -> a timestamped directory, swapped atomically.
    dir.write("..2026_11_24_10_00_00.1/token", "first\n");
    fs::create_directory_symlink("..2026_11_24_10_00_00.1", dir.file("..data"));
    fs::create_symlink("..data/token", dir.file("token"));
    auto token = BearerToken::from_file(dir.file("token"));
    CHECK(token.value() == "first");

    dir.write("..2026_11_24_11_00_00.2/token", "second-token\n");
    fs::create_directory_symlink("..2026_11_24_11_00_00.2", dir.file("..data_tmp"));
    fs::rename(dir.file("..data_tmp"), dir.file("..data"));
    CHECK(token.value() == "second-token");
    CHECK(token.value() == "second-token");
}

TEST_CASE("a fixed token is trimmed and never changes", "[unit][kube]") {
    auto token = BearerToken::fixed(" abc \n");
    CHECK(token.value() == "abc");
    CHECK(BearerToken{}.empty());
}
