// The apiserver's URL (kubeconfig `server`), the request targets sent to it, and the base64 of
// kubeconfig's `*-data` fields.
#include "common/kube/api_target.hpp"
#include "common/kube/base64.hpp"
#include "common/kube/kube_config.hpp"

#include <catch2/catch.hpp>

#include <boost/url/parse.hpp>

#include <map>
#include <optional>
#include <string>

using namespace anycast::common::kube;

namespace {

// What the apiserver reads out of a target's query: decoded, '+' as a space (Go's url.ParseQuery).
std::map<std::string, std::string> query_of(const std::string& target) {
    const auto parsed = boost::urls::parse_origin_form(target);
    REQUIRE(parsed);
    std::map<std::string, std::string> params;
    for (const auto& param : parsed->params(boost::urls::encoding_opts(true))) params[param.key] = param.value;
    return params;
}

}  // namespace

TEST_CASE("server URL: host, port, IPv6 literal and base path are taken apart", "[unit][kube]") {
    struct Case {
        std::string url, host, port, base_path, server;
    };
    const auto c = GENERATE(values<Case>({
        {"https://api.example", "api.example", "443", "", "https://api.example:443"},
        {"https://api.example:6443", "api.example", "6443", "", "https://api.example:6443"},
        {"https://10.0.0.1:6443/", "10.0.0.1", "6443", "", "https://10.0.0.1:6443"},
        {"https://[fd00::1]:8443/prefix/", "fd00::1", "8443", "/prefix", "https://[fd00::1]:8443/prefix"},
        {"https://[fd00::1]", "fd00::1", "443", "", "https://[fd00::1]:443"},
        {"https://api.example/k8s/clusters/c-1", "api.example", "443", "/k8s/clusters/c-1",
         "https://api.example:443/k8s/clusters/c-1"},
        {"https://api.example:1", "api.example", "1", "", "https://api.example:1"},
        {"https://api.example:65535", "api.example", "65535", "", "https://api.example:65535"},
        {"https://api.example:06443", "api.example", "6443", "", "https://api.example:6443"},
        {"HTTPS://api.example:6443", "api.example", "6443", "", "https://api.example:6443"},
    }));
    CAPTURE(c.url);
    KubeConfig config;
    set_server(config, c.url, "kubeconfig");
    CHECK(config.host == c.host);
    CHECK(config.port == c.port);
    CHECK(config.base_path == c.base_path);
    CHECK(config.server() == c.server);
}

TEST_CASE("server URL: anything but https://host[:port][/path] with a port in 1-65535 is refused", "[unit][kube]") {
    struct Case {
        std::string url, problem;
    };
    const auto c = GENERATE(values<Case>({
        {"http://api.example", "only https:// servers are supported"},
        {"api.example:6443", "only https:// servers are supported"},
        {"https://api.example:0", "port \"0\" is not a number from 1 to 65535"},
        {"https://api.example:65536", "port \"65536\" is not a number from 1 to 65535"},
        {"https://api.example:99999999999999999999", "is not a number from 1 to 65535"},
        {"https://api.example:", "port \"\" is not a number from 1 to 65535"},
        {"https://api.example:x", "not a valid URL"},
        {"https://[fd00::1:6443", "not a valid URL"},
        {"https://[fd00::1]x", "not a valid URL"},
        {"https://api.example:443x/y", "not a valid URL"},
        {"https:api.example", "not a valid URL"},
        {"", "not a valid URL"},
        {"https://", "no host"},
        {"https://:6443", "no host"},
        {"https:///prefix", "no host"},
        {"https:/api.example", "no host"},
        {"https://admin:pw@api.example", "user info is not supported"},
        {"https://api.example/?watch=1", "a query or fragment is not supported"},
        {"https://api.example/#top", "a query or fragment is not supported"},
    }));
    CAPTURE(c.url);
    KubeConfig config;
    CHECK_THROWS_AS(set_server(config, c.url, "/etc/kube/config"), KubeConfigError);
    CHECK_THROWS_WITH(set_server(config, c.url, "/etc/kube/config"),
                      Catch::Matchers::StartsWith("/etc/kube/config: server \"" + c.url + "\": ") &&
                          Catch::Matchers::Contains(c.problem));
}

TEST_CASE("in-cluster: KUBERNETES_SERVICE_PORT must be a port in 1-65535", "[unit][kube]") {
    for (const std::string port : {"0", "65536", "https", "-1"}) {
        CAPTURE(port);
        CHECK_THROWS_WITH(
            load_in_cluster({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", port}},
                            "/nonexistent"),
            Catch::Matchers::Contains("KUBERNETES_SERVICE_PORT \"" + port + "\" is not a number from 1 to 65535"));
    }
}

TEST_CASE("the Host header brackets an IPv6 literal", "[unit][kube]") {
    KubeConfig config;
    config.host = "fd00:96::1";
    config.port = "6443";
    CHECK(config.authority() == "[fd00:96::1]:6443");
    config.host = "api.example";
    CHECK(config.authority() == "api.example:6443");
}

TEST_CASE("request targets percent-encode names and query values", "[unit][kube]") {
    CHECK(pod_target("kube-system", "coredns-7db6d8ff4d-x2l9q") ==
          "/api/v1/namespaces/kube-system/pods/coredns-7db6d8ff4d-x2l9q");
    // '/' must not add a path segment, '?' and '#' must not end the path.
    CHECK(pod_target("a b/c", "x?y#z%") == "/api/v1/namespaces/a%20b%2Fc/pods/x%3Fy%23z%25");

    CHECK(node_pods_list_target("worker-1", 500, "") ==
          "/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-1&limit=500");
    CHECK(node_pods_watch_target("worker-1", "12345", 300) ==
          "/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-1&watch=true&allowWatchBookmarks=true"
          "&resourceVersion=12345&timeoutSeconds=300");

    // '&' and '=' must not split the parameter, '+' must not turn into a space.
    const std::string node = "node a+b&c=d";
    const std::string token = "eyJ2IjoxfQ+/=";
    const std::string list = node_pods_list_target(node, 2, token);
    CHECK(list ==
          "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode%20a%2Bb%26c%3Dd&limit=2"
          "&continue=eyJ2IjoxfQ%2B%2F%3D");
    CHECK(query_of(list) == std::map<std::string, std::string>{
                                {"fieldSelector", "spec.nodeName=" + node}, {"limit", "2"}, {"continue", token}});
    const auto watch = query_of(node_pods_watch_target(node, "1+2", 60));
    CHECK(watch.at("fieldSelector") == "spec.nodeName=" + node);
    CHECK(watch.at("resourceVersion") == "1+2");
}

TEST_CASE("the node's own Node object: list and watch targets select it by metadata.name", "[unit][kube]") {
    CHECK(node_list_target("worker-1") == "/api/v1/nodes?fieldSelector=metadata.name%3Dworker-1");
    CHECK(node_watch_target("worker-1", "77", 300) ==
          "/api/v1/nodes?fieldSelector=metadata.name%3Dworker-1&watch=true&allowWatchBookmarks=true"
          "&resourceVersion=77&timeoutSeconds=300");
    CHECK(query_of(node_watch_target("node a+b&c=d", "1", 60)).at("fieldSelector") == "metadata.name=node a+b&c=d");
}

TEST_CASE("base64: padded standard base64 decodes, line breaks and spaces skipped", "[unit][kube]") {
    struct Case {
        std::string text, bytes;
    };
    const auto c = GENERATE(values<Case>({
        {"", ""},
        {"YQ==", "a"},
        {"YWI=", "ab"},
        {"YWJj", "abc"},
        {"YWJjZA==", "abcd"},
        {"YWJj\nZGVm\r\n", "abcdef"},
        {" YWJj ZGVm ", "abcdef"},
        {"AP8A/w==", std::string("\0\xff\0\xff", 4)},
        {"+/8=", "\xfb\xff"},
    }));
    CAPTURE(c.text);
    CHECK(base64_decode(c.text) == c.bytes);
}

TEST_CASE("base64: anything else is not base64", "[unit][kube]") {
    const auto text = GENERATE(as<std::string>{},
                               "YQ",    // unpadded
                               "YQ=",   // short padding
                               "Y===",  // three pad characters
                               "====",
                               "YQ==YQ==",  // padding in the middle
                               "YQ=a",
                               "YWJj-",  // OpenSSL would stop at '-' (PEM's EOF) and say nothing
                               "YWJj----",
                               "YW@j",  // not in the alphabet
                               "YWJ\tj",
                               "YW-_");  // the URL-safe alphabet is not kubeconfig's
    CAPTURE(text);
    CHECK(base64_decode(text) == std::nullopt);
}

TEST_CASE("base64: encode writes padded base64 that decodes back", "[unit][kube]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("a") == "YQ==");
    CHECK(base64_encode("ab") == "YWI=");
    CHECK(base64_encode("abc") == "YWJj");
    std::string every_byte;
    for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
    const std::string encoded = base64_encode(every_byte);
    CHECK(encoded.find('\n') == std::string::npos);
    CHECK(base64_decode(encoded) == every_byte);
}
