// The rendered BIRD include and how it is written (docs/architecture.md section 7).
#include "common/error.hpp"
#include "reconciler/bird/bird_fragment_file.hpp"
#include "reconciler/bird/bird_render.hpp"

#include "test/support/bird_lab.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using anycast::common::Prefix;
using anycast::reconciler::render_bird_sets;
using anycast::reconciler::write_file_if_changed;
using anycast::test::read_text_file;
using anycast::test::TempDir;

namespace {

std::vector<Prefix> prefixes(std::initializer_list<const char*> texts) {
    std::vector<Prefix> out;
    for (const char* text : texts) out.push_back(*Prefix::parse(text));
    return out;
}

const std::string k_header =
    "# Written by flock-anycast serve: the anycast prefixes it has routes for.\n"
    "# Do not edit; it is rewritten on every change and read by flock.conf.\n";

}  // namespace

TEST_CASE("the empty set renders both sets as [ ]", "[unit][bird]") {
    CHECK(render_bird_sets({}) == k_header +
                                      "define FLOCK_ANYCAST_V4 = [ ];\n"
                                      "define FLOCK_ANYCAST_V6 = [ ];\n");
}

TEST_CASE("prefixes render in canonical text, sorted, split by family", "[unit][bird]") {
    struct Row {
        std::vector<Prefix> input;
        std::string v4;
        std::string v6;
    };
    const Row rows[] = {
        {prefixes({"10.255.53.53/32"}), "[ 10.255.53.53/32 ]", "[ ]"},
        {prefixes({"fd00:255:0:0::53/128"}), "[ ]", "[ fd00:255::53/128 ]"},
        // Numeric order, not text order: 10.255.53.9 before 10.255.53.53.
        {prefixes({"10.255.53.53/32", "fd00:255::53/128", "10.255.53.9/32", "fd00:255::1/128"}),
         "[ 10.255.53.9/32, 10.255.53.53/32 ]", "[ fd00:255::1/128, fd00:255::53/128 ]"},
        {prefixes({"10.255.53.53", "10.255.53.53/32", "10.255.0.1"}), "[ 10.255.0.1/32, 10.255.53.53/32 ]", "[ ]"},
    };
    for (const auto& row : rows) {
        CHECK(render_bird_sets(row.input) ==
              k_header + "define FLOCK_ANYCAST_V4 = " + row.v4 + ";\ndefine FLOCK_ANYCAST_V6 = " + row.v6 + ";\n");
    }
}

TEST_CASE("the same set in any order renders the same bytes", "[unit][bird]") {
    const auto a = prefixes({"10.255.0.2", "fd00::2", "10.255.0.1", "fd00::1"});
    const auto b = prefixes({"fd00::1", "10.255.0.1", "fd00::2", "10.255.0.2", "10.255.0.1"});
    CHECK(render_bird_sets(a) == render_bird_sets(b));
}

TEST_CASE("the include is written only when its text changes", "[unit][bird]") {
    TempDir dir;
    const std::string path = (std::filesystem::path(dir.path()) / "flock-anycast.conf").string();
    CHECK(write_file_if_changed(path, "one\n"));
    CHECK(read_text_file(path) == "one\n");
    CHECK_FALSE(write_file_if_changed(path, "one\n"));
    CHECK(write_file_if_changed(path, "two\n"));
    CHECK(read_text_file(path) == "two\n");

    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);  // Debian's BIRD runs as user bird
    // No temp files left behind.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("a write into a missing directory fails naming the path", "[unit][bird]") {
    TempDir dir;
    const std::string path = (std::filesystem::path(dir.path()) / "missing" / "flock-anycast.conf").string();
    try {
        write_file_if_changed(path, "x\n");
        FAIL("no error");
    } catch (const anycast::common::SystemError& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);
        CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
    }
}
