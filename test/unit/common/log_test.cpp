#include "common/error.hpp"
#include "common/log.hpp"

#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace flog = anycast::common::log;

TEST_CASE("log lines are key=value with quoting where needed", "[unit]") {
    const auto line = flog::format_line("2026-11-24T10:00:00.000000Z", flog::Level::warn, "route failed",
                                        {flog::kv("prefix", "10.255.53.53/32"), flog::kv("errno", 101),
                                         flog::kv("error", "Network is \"unreachable\"")});
    CHECK(line ==
          "ts=2026-11-24T10:00:00.000000Z level=warn msg=\"route failed\" prefix=10.255.53.53/32 errno=101 "
          "error=\"Network is \\\"unreachable\\\"\"");
    CHECK(flog::format_line("t", flog::Level::info, "a\nb", {flog::kv("empty", "")}) ==
          "ts=t level=info msg=\"a\\nb\" empty=\"\"");
}

TEST_CASE("the logger writes to a file with context fields and honours the level", "[unit]") {
    const anycast::test::TempDir dir("log-test");
    const std::string path = dir.write("test.log", "");
    flog::log_to_file(path);
    flog::set_context({flog::kv("containerID", "abc")});
    flog::set_level(flog::Level::info);
    flog::debug("hidden");
    flog::info("shown", {flog::kv("k", "v")});
    flog::log_to_stderr();
    flog::set_context({});

    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str().find("hidden") == std::string::npos);
    CHECK(content.str().find("level=info msg=shown containerID=abc k=v\n") != std::string::npos);
}

TEST_CASE("a log batch writes its whole lines together when it ends", "[unit]") {
    const anycast::test::TempDir dir("log-batch");
    const std::string path = dir.write("batch.log", "");
    const auto content = [&] {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    };
    flog::log_to_file(path);
    {
        const flog::Batch outer;
        flog::info("first");
        {
            const flog::Batch inner;  // nested: only the outermost one writes
            flog::info("second");
        }
        CHECK(content().empty());
    }
    flog::log_to_stderr();
    const std::string text = content();
    CHECK(text.find("msg=first") < text.find("msg=second"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

TEST_CASE("log file errors name the path", "[unit]") {
    CHECK_THROWS_WITH(flog::log_to_file("/nonexistent-dir/x.log"),
                      "open log file /nonexistent-dir/x.log: No such file or directory");
}

TEST_CASE("system errors name what was being done and errno", "[unit]") {
    errno = ENOENT;
    CHECK_THROWS_WITH(anycast::common::throw_errno("setns {}", "/var/run/netns/x"),
                      "setns /var/run/netns/x: No such file or directory");
}
