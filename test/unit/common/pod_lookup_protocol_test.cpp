// The serve.sock lines (common/pod_lookup_protocol.hpp): each side reads what the other
// writes, and anything else is an error naming the field.
#include "common/json_reader.hpp"
#include "common/pod_lookup_protocol.hpp"

#include <catch2/catch.hpp>

using namespace anycast::common;

namespace {

std::string without_newline(std::string line) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');
    line.pop_back();
    return line;
}

}  // namespace

TEST_CASE("a pod lookup request reads back as written", "[unit]") {
    const PodLookupRequest request{
        .namespace_ = "dns", .name = "resolver-0", .uid = "u-1", .annotation = "anycast.flock.io/ips"};
    const std::string line = encode_request(request);
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(parse_request(without_newline(line)) == request);
}

TEST_CASE("each pod lookup answer reads back as written", "[unit]") {
    const PodLookupAnswer answer = GENERATE(PodLookupAnswer::found("10.255.53.53, fd00:255::53", "cache"),
                                            PodLookupAnswer::found(std::nullopt, "apiserver"),
                                            PodLookupAnswer::failed("apiserver unreachable", true),
                                            PodLookupAnswer::failed("pods \"x\" not found", false));
    CHECK(parse_answer(without_newline(encode_answer(answer))) == answer);
}

TEST_CASE("a drain command's answer reads back with its reasons, since-times and note", "[unit]") {
    ServeCommandAnswer answer;
    answer.ok = true;
    answer.state = "drained";
    answer.reason = "node cordoned (spec.unschedulable)";
    answer.since = "2026-12-01T10:00:30Z";
    answer.reasons = {{"cordon", "node cordoned (spec.unschedulable)", "2026-12-01T10:00:00Z"}};
    answer.note = "the drain stays: node cordoned (spec.unschedulable)";
    CHECK(parse_command_answer(without_newline(encode_command_answer(answer))) == answer);
    // An older serve's answer (state and reason only) still reads.
    const auto old = parse_command_answer(R"({"ok":true,"state":"announcing","reason":""})");
    CHECK(old.state == "announcing");
    CHECK(old.reasons.empty());
}

TEST_CASE("a request without what it must name is refused, naming the field", "[unit]") {
    const auto [line, field] = GENERATE(table<std::string, std::string>({
        {R"({"name":"a","annotation":"k"})", "request.namespace"},
        {R"({"namespace":"dns","annotation":"k"})", "request.name"},
        {R"({"namespace":"dns","name":"a"})", "request.annotation"},
        {R"({"namespace":"","name":"a","annotation":"k"})", "request.namespace"},
        {R"({"namespace":7,"name":"a","annotation":"k"})", "request.namespace"},
        {R"(["dns","a"])", "request"},
        {R"({"namespace":"dns")", "pod lookup request"},
    }));
    INFO(line);
    CHECK_THROWS_WITH(parse_request(line), Catch::Matchers::Contains(field));
}

TEST_CASE("a name longer than Kubernetes allows is refused", "[unit]") {
    const std::string line = R"({"namespace":"dns","name":")" + std::string(254, 'a') + R"(","annotation":"k"})";
    CHECK_THROWS_AS(parse_request(line), JsonError);
}

TEST_CASE("an answer neither ok nor failed with a reason is refused", "[unit]") {
    CHECK_THROWS_WITH(parse_answer(R"({"value":"10.0.0.1"})"), Catch::Matchers::Contains("answer.ok"));
    CHECK_THROWS_WITH(parse_answer(R"({"ok":false})"), Catch::Matchers::Contains("answer.error"));
    CHECK_THROWS_AS(parse_answer("garbage"), JsonError);
}

TEST_CASE("the socket lives in the state directory", "[unit]") {
    CHECK(serve_socket_path("/run/flock-anycast") == "/run/flock-anycast/serve.sock");
}
