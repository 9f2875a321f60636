// BIRD's control-socket reply grammar, with lines from the transcript in docs/bird.md.
#include "reconciler/bird/bird_reply.hpp"

#include <catch2/catch.hpp>

using anycast::reconciler::BirdReply;
using anycast::reconciler::BirdReplyParser;
using Result = BirdReplyParser::Result;

namespace {

// Feeds all lines; every line but the last must ask for more.
BirdReply parse(std::initializer_list<const char*> lines) {
    BirdReplyParser parser;
    std::size_t i = 0;
    for (const char* line : lines) {
        const auto result = parser.feed(line);
        INFO(line);
        REQUIRE(result == (++i == lines.size() ? Result::done : Result::more));
    }
    return parser.take();
}

}  // namespace

TEST_CASE("a one-line reply is complete with its code and text", "[unit][bird]") {
    const auto greeting = parse({"0001 BIRD 2.0.12 ready."});
    CHECK(greeting.code() == 1);
    CHECK(greeting.text() == "BIRD 2.0.12 ready.");
    CHECK(parse({"0020 Configuration OK"}).code() == 20);
    CHECK(parse({"9001 syntax error, unexpected CF_SYM_UNDEFINED"}).text() ==
          "syntax error, unexpected CF_SYM_UNDEFINED");
}

TEST_CASE("DDDD- lines continue until the DDDD final line", "[unit][bird]") {
    const auto reply = parse({"0002-Reading configuration from /etc/bird/bird.conf", "0003 Reconfigured"});
    CHECK(reply.code() == 3);
    REQUIRE(reply.lines.size() == 2);
    CHECK(reply.lines[0].code == 2);
    CHECK(reply.text() == "Reading configuration from /etc/bird/bird.conf\nReconfigured");

    const auto error = parse(
        {"0002-Reading configuration from /x/node.conf", "8002 /x/flock-anycast.conf:1:55 Invalid prefix length 33"});
    CHECK(error.code() == 8002);
    CHECK(error.lines.back().text == "/x/flock-anycast.conf:1:55 Invalid prefix length 33");
}

TEST_CASE("continuation lines keep the previous code and lose exactly one space", "[unit][bird]") {
    const auto reply = parse({"1007-Table master4:", " 10.255.0.1/32        unicast [flock_krt4 10:29:44.938] * (10)",
                              " \tvia 10.0.1.2 on n-p1", "0000 "});
    CHECK(reply.code() == 0);
    REQUIRE(reply.lines.size() == 4);
    CHECK(reply.lines[1].code == 1007);
    CHECK(reply.lines[1].text == "10.255.0.1/32        unicast [flock_krt4 10:29:44.938] * (10)");
    CHECK(reply.lines[2].code == 1007);
    CHECK(reply.lines[2].text == "\tvia 10.0.1.2 on n-p1");
    CHECK(reply.lines[3].text.empty());
}

TEST_CASE("a bare four-digit line ends the reply", "[unit][bird]") {
    CHECK(parse({"1000-BIRD 2.0.12", "0000"}).code() == 0);
}

TEST_CASE("lines of no known shape are malformed", "[unit][bird]") {
    for (const char* line : {"", "abc", "123", "12a4 x", "0003x", "0003:text", " continuation first"}) {
        BirdReplyParser parser;
        INFO(line);
        CHECK(parser.feed(line) == Result::malformed);
    }
}

TEST_CASE("the parser starts afresh after take", "[unit][bird]") {
    BirdReplyParser parser;
    REQUIRE(parser.feed("0001 BIRD ready.") == Result::done);
    CHECK(parser.take().code() == 1);
    REQUIRE(parser.feed("0003 Reconfigured") == Result::done);
    const auto second = parser.take();
    CHECK(second.lines.size() == 1);
    CHECK(second.code() == 3);
}

TEST_CASE("configure success and BIRD error codes are classified", "[unit][bird]") {
    using anycast::reconciler::is_bird_error;
    using anycast::reconciler::is_configure_success;
    for (int code : {3, 4, 5, 20}) CHECK(is_configure_success(code));
    for (int code : {0, 1, 2, 8002, 9001}) CHECK_FALSE(is_configure_success(code));
    for (int code : {8000, 8002, 9001, 9999}) CHECK(is_bird_error(code));
    for (int code : {0, 3, 20, 1007, 7999}) CHECK_FALSE(is_bird_error(code));
}
