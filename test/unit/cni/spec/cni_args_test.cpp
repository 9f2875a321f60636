#include "cni/spec/cni_args.hpp"
#include "cni/spec/environment.hpp"
#include "cni/spec/cni_error.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace anycast::cni;
using anycast::cni::CniError;

namespace {

int code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const CniError& e) {
        return e.code();
    }
    return 0;
}

EnvLookup env_of(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto found = values.find(name);
        if (found == values.end()) return std::nullopt;
        return found->second;
    };
}

}  // namespace

TEST_CASE("CNI_ARGS: K=V pairs are read, empty pairs tolerated", "[unit]") {
    const auto args = parse_cni_args("K8S_POD_NAMESPACE=dns;K8S_POD_NAME=coredns-0;;ANYCAST_IPS=10.255.53.53,fd00::1;");
    CHECK(args.get("K8S_POD_NAMESPACE") == "dns");
    CHECK(args.get("K8S_POD_NAME") == "coredns-0");
    CHECK(args.get("ANYCAST_IPS") == "10.255.53.53,fd00::1");
    CHECK_FALSE(args.get("K8S_POD_UID"));
    CHECK(parse_cni_args("").values.empty());
    CHECK(parse_cni_args("K8S_POD_UID=").get("K8S_POD_UID") == "");
}

TEST_CASE("CNI_ARGS: unknown keys are refused unless IgnoreUnknown is set", "[unit]") {
    CHECK_THROWS_WITH(parse_cni_args("FOO=1"),
                      "CNI_ARGS: unknown key FOO (set IgnoreUnknown=1 to ignore unknown keys)");
    CHECK(code_of([] { parse_cni_args("FOO=1"); }) == 4);
    CHECK(parse_cni_args("IgnoreUnknown=1;FOO=1").get("FOO") == "1");
    CHECK(parse_cni_args("FOO=1;IgnoreUnknown=true").get("FOO") == "1");
    CHECK_THROWS_WITH(parse_cni_args("IgnoreUnknown=0;FOO=1"), Catch::StartsWith("CNI_ARGS: unknown key FOO"));
}

TEST_CASE("CNI_ARGS: malformed pairs are code 4 naming CNI_ARGS", "[unit]") {
    CHECK_THROWS_WITH(parse_cni_args("K8S_POD_NAME"), "CNI_ARGS: \"K8S_POD_NAME\" is not K=V");
    CHECK_THROWS_WITH(parse_cni_args("=x"), "CNI_ARGS: \"=x\" has an empty key");
    CHECK_THROWS_WITH(parse_cni_args("K8S_POD_NAME=a;K8S_POD_NAME=b"), "CNI_ARGS: key K8S_POD_NAME given twice");
    CHECK(code_of([] { parse_cni_args("x"); }) == 4);
}

TEST_CASE("CNI environment: each verb requires its variables, errors name them", "[unit]") {
    std::map<std::string, std::string> full = {{"CNI_COMMAND", "ADD"},
                                               {"CNI_CONTAINERID", "abc-1"},
                                               {"CNI_NETNS", "/run/netns/x"},
                                               {"CNI_IFNAME", "eth0"},
                                               {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=dns"}};
    const auto env = read_environment(env_of(full));
    CHECK(env.verb == Verb::add);
    CHECK(env.container_id == "abc-1");
    CHECK(env.netns == "/run/netns/x");
    CHECK(env.ifname == "eth0");
    CHECK(env.args.get("K8S_POD_NAMESPACE") == "dns");

    for (const char* name : {"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}) {
        auto partial = full;
        partial.erase(name);
        INFO(name);
        CHECK_THROWS_WITH(read_environment(env_of(partial)), std::string(name) + ": missing");
        CHECK(code_of([&] { read_environment(env_of(partial)); }) == 4);
    }
    auto del = full;
    del["CNI_COMMAND"] = "DEL";
    del.erase("CNI_NETNS");
    CHECK(read_environment(env_of(del)).netns.empty());

    CHECK(read_environment(env_of({{"CNI_COMMAND", "GC"}})).verb == Verb::gc);
    CHECK(read_environment(env_of({{"CNI_COMMAND", "STATUS"}})).verb == Verb::status);
    CHECK_THROWS_WITH(read_environment(env_of({})), "CNI_COMMAND: missing");
    CHECK_THROWS_WITH(read_environment(env_of({{"CNI_COMMAND", "ATTACH"}})), "CNI_COMMAND: unknown command \"ATTACH\"");

    auto bad_id = full;
    bad_id["CNI_CONTAINERID"] = "../etc";
    CHECK_THROWS_WITH(read_environment(env_of(bad_id)), Catch::StartsWith("CNI_CONTAINERID: \"../etc\" must start"));
    bad_id["CNI_CONTAINERID"] = "a/b";
    CHECK_THROWS_WITH(read_environment(env_of(bad_id)), Catch::StartsWith("CNI_CONTAINERID: \"a/b\" contains '/'"));
    auto bad_if = full;
    bad_if["CNI_IFNAME"] = "a-very-long-interface";
    CHECK_THROWS_WITH(read_environment(env_of(bad_if)), Catch::Contains("longer than 15"));
    auto bad_args = full;
    bad_args["CNI_ARGS"] = "nonsense";
    CHECK(code_of([&] { read_environment(env_of(bad_args)); }) == 4);
}
