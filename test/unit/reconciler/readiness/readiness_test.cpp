// The `file` readiness source: the file format, and the source on a real io_context with
// inotify (no root needed).
#include "common/json_reader.hpp"
#include "reconciler/readiness/file_source.hpp"
#include "reconciler/readiness/pod_states_json.hpp"

#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using namespace anycast;

TEST_CASE("the readiness file is an array of pods with defaults for uid, ready and deleting", "[unit][reconciler]") {
    const auto pods = reconciler::parse_pod_states(
        R"([{"namespace":"dns","name":"a","uid":"u1","ready":true,"deleting":true},{"namespace":"dns","name":"b"}])",
        "pods.json");
    REQUIRE(pods.size() == 2);
    CHECK(pods[0] == common::PodState{"dns", "a", "u1", true, true});
    CHECK(pods[1] == common::PodState{"dns", "b", "", false, false});
    CHECK(reconciler::parse_pod_states("[]", "pods.json").empty());
}

TEST_CASE("a bad readiness file is an error naming the file and the field", "[unit][reconciler]") {
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {R"({"namespace":"dns"})", "pods.json: not a JSON array of pods"},
        {R"([{"name":"a"}])", "pods.json: [0].namespace: missing"},
        {R"([{"namespace":"dns","name":"a","ready":"yes"}])", "pods.json: [0].ready: "},
        {R"([{"namespace":)", "pods.json: invalid JSON"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        try {
            reconciler::parse_pod_states(c.text, "pods.json");
            FAIL("no error");
        } catch (const common::JsonError& e) {
            CHECK(std::string(e.what()).rfind(c.message, 0) == 0);
        }
    }
}

namespace {

// The readiness file, pods.json in a temporary directory.
struct TempFile {
    test::TempDir dir{"readiness"};
    std::string path() const { return dir.file("pods.json"); }
    // Written elsewhere and renamed in, as a careful writer does.
    void write(const std::string& text) const {
        const auto tmp = dir.file("tmp");
        std::ofstream(tmp) << text;
        std::filesystem::rename(tmp, path());
    }
};

// Runs the loop until `changes` callbacks were seen (bounded, not a timed assertion).
void run_until(boost::asio::io_context& io, const int& changes, int want) {
    for (int i = 0; i < 500 && changes < want; ++i) {
        io.run_for(std::chrono::milliseconds(10));
        io.restart();
    }
}

}  // namespace

TEST_CASE("the file source syncs on start, follows renames, and keeps the last good state when the file breaks",
          "[unit][reconciler]") {
    TempFile file;
    boost::asio::io_context io;
    reconciler::FileSource source(io, file.path());
    int changes = 0;

    source.start([&] { ++changes; });
    CHECK_FALSE(source.synced());  // no file yet: nothing known, nothing withdrawn

    file.write(R"([{"namespace":"dns","name":"a","ready":true}])");
    run_until(io, changes, 1);
    REQUIRE(changes == 1);
    CHECK(source.synced());
    REQUIRE(source.snapshot().pods.size() == 1);
    CHECK(source.snapshot().pods[0].ready);

    file.write("[{");
    io.run_for(std::chrono::milliseconds(50));
    io.restart();
    CHECK(changes == 1);
    CHECK(source.synced());
    CHECK(source.snapshot().pods[0].ready);

    file.write(R"([{"namespace":"dns","name":"a","ready":false}])");
    run_until(io, changes, 2);
    REQUIRE(changes == 2);
    CHECK_FALSE(source.snapshot().pods[0].ready);

    source.stop();
}
