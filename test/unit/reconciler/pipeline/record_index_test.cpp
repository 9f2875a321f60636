// serve's record index: one read per file at start, then file-by-file updates from inotify
// events, with a stamp check so an event for what the index already holds reads nothing new.
#include "common/store/record_json.hpp"
#include "common/store/record_store.hpp"
#include "reconciler/pipeline/record_index.hpp"

#include "test/support/record_builder.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <chrono>
#include <fstream>
#include <thread>

using namespace anycast;
namespace fs = std::filesystem;

namespace {

common::Record make_record(const std::string& id, const std::string& ip = "10.255.0.1",
                           const std::string& ifname = "eth0") {
    return test::RecordBuilder("net", id, ifname)
        .netns("/run/netns/" + id)
        .pod("default", "pod-" + id)
        .ip(ip)
        .nexthop("10.0.0.2", "veth0")
        .created("2026-11-30T10:00:00Z")
        .build();
}

std::string file_of(const std::string& id) { return common::RecordStore::file_name("net", id, "eth0"); }

std::vector<std::string> ids(reconciler::RecordIndex& index) {
    std::vector<std::string> out;
    for (const auto* record : index.records()) out.push_back(record->name);
    return out;
}

}  // namespace

TEST_CASE("record index: rescan reads every record once, then only what changed", "[unit]") {
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    for (const char* id : {"a", "b", "c"}) writer.put(make_record(id));
    reconciler::RecordIndex index(store);
    CHECK(index.rescan());
    CHECK(ids(index) == std::vector<std::string>{"net_a_eth0", "net_b_eth0", "net_c_eth0"});
    CHECK_FALSE(index.rescan());  // nothing changed: stat only, no change reported

    writer.put(make_record("b", "10.255.0.9"));
    writer.remove("net", "c", "eth0");
    writer.put(make_record("d"));
    CHECK(index.rescan());
    CHECK(ids(index) == std::vector<std::string>{"net_a_eth0", "net_b_eth0", "net_d_eth0"});
    CHECK(index.records()[1]->ips.at(0).to_string() == "10.255.0.9");
}

TEST_CASE("record index: refresh follows one file through create, rewrite and removal", "[unit]") {
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    reconciler::RecordIndex index(store);
    CHECK_FALSE(index.rescan());  // no records directory yet
    CHECK(index.size() == 0);

    writer.put(make_record("a"));
    CHECK(index.refresh(file_of("a")));
    CHECK_FALSE(index.refresh(file_of("a")));  // a second event for the same file version
    REQUIRE(index.size() == 1);

    writer.put(make_record("a", "10.255.0.5"));
    CHECK(index.refresh(file_of("a")));
    CHECK(index.records().at(0)->ips.at(0).to_string() == "10.255.0.5");

    writer.remove("net", "a", "eth0");
    CHECK(index.refresh(file_of("a")));
    CHECK(index.size() == 0);
    CHECK_FALSE(index.refresh(file_of("never-was")));
}

TEST_CASE("record index: a corrupt file is quarantined by the store and leaves the index", "[unit]") {
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    writer.put(make_record("a"));
    writer.put(make_record("b"));
    reconciler::RecordIndex index(store);
    index.rescan();
    REQUIRE(index.size() == 2);

    std::ofstream(writer.record_path("net", "b", "eth0"), std::ios::trunc) << "{\"version\": 1,";
    CHECK(index.refresh(file_of("b")));
    CHECK(ids(index) == std::vector<std::string>{"net_a_eth0"});
    CHECK_FALSE(fs::exists(writer.record_path("net", "b", "eth0")));
    CHECK(std::distance(fs::directory_iterator(writer.quarantine_dir()), fs::directory_iterator()) == 1);
}

TEST_CASE("record index: names whose stems sort unlike their file names merge without churn", "[unit]") {
    // "net_a_eth0-1.json" < "net_a_eth0.json" but "net_a_eth0" < "net_a_eth0-1".
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    writer.put(make_record("a", "10.255.0.1", "eth0"));
    writer.put(make_record("a", "10.255.0.2", "eth0-1"));
    reconciler::RecordIndex index(store);
    CHECK(index.rescan());
    CHECK(ids(index) == std::vector<std::string>{"net_a_eth0", "net_a_eth0-1"});
    const auto generation = index.generation();
    CHECK_FALSE(index.rescan());
    CHECK(index.generation() == generation);
    CHECK(index.size() == 2);
}

TEST_CASE("record index: a large start-up set is read on several threads, corrupt files quarantined", "[unit]") {
    // 600 files: above the index's threshold for reading on several threads.
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    std::vector<std::string> expected;
    for (int i = 0; i < 600; ++i) {
        const std::string id = fmt::format("c{:03}", i);
        auto record = make_record(id, fmt::format("10.255.{}.{}", i / 250, i % 250 + 1));
        // One larger than the readers' first 4 KiB read.
        for (int k = 0; i == 300 && k < 400; ++k)
            record.ips.push_back(*common::IpAddress::parse(fmt::format("10.254.{}.{}", k / 250, k % 250 + 1)));
        writer.put(record);
        if (i != 123 && i != 599) expected.push_back("net_" + id + "_eth0");
    }
    for (const char* id : {"c123", "c599"}) {
        std::ofstream(writer.record_path("net", id, "eth0"), std::ios::trunc) << "{\"version\": 1,";
    }
    reconciler::RecordIndex index(store);
    CHECK(index.rescan());
    CHECK(ids(index) == expected);
    CHECK(index.records().at(250)->ips.at(0).to_string() == "10.255.1.2");  // c251
    REQUIRE(index.records().at(299)->ips.size() == 401);                    // c300
    CHECK(index.records().at(299)->ips.back().to_string() == "10.254.1.150");
    CHECK(std::distance(fs::directory_iterator(writer.quarantine_dir()), fs::directory_iterator()) == 2);
    CHECK(index.files_read() == 602);  // each once, the two corrupt ones again to quarantine
    // Those written less than the margin before the start-up read (writing 600 takes a
    // while) are read again, and found unchanged.
    CHECK_FALSE(index.rescan());
    CHECK(index.files_read() <= 602 + 598);
}

TEST_CASE("record index: the start-up read's size-only stamps are completed at the next rescan without reading",
          "[unit]") {
    test::TempDir dir("ri");
    common::RecordStore writer(dir.path());
    common::RecordStore store(dir.path());
    for (int i = 0; i < 600; ++i) writer.put(make_record(fmt::format("c{:03}", i), "10.255.0.1"));
    // Older than the index's ctime margin (1 s) when it reads them: a bound, not a timing.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    reconciler::RecordIndex index(store);
    CHECK(index.rescan());
    CHECK(index.files_read() == 600);

    // Rewritten in place with the same size and no inotify event (as if the queue had
    // overflowed): its new ctime sends the rescan to read it.
    std::ofstream(writer.record_path("net", "c007", "eth0"), std::ios::trunc)
        << common::serialize_record(make_record("c007", "10.255.0.2"));
    CHECK(index.rescan());
    CHECK(index.files_read() == 601);
    CHECK(index.records().at(7)->ips.at(0).to_string() == "10.255.0.2");

    CHECK_FALSE(index.rescan());  // full stamps now: stat only
    CHECK(index.files_read() == 601);
}

TEST_CASE("record index: when no reader thread can start, the start-up read runs on the caller", "[unit]") {
    test::TempDir dir("ri");
    {
        common::RecordStore writer(dir.path());
        for (int i = 0; i < 600; ++i) writer.put(make_record(fmt::format("c{:03}", i)));
    }
    // A child as an unprivileged user whose process limit it already fills: clone(2) for a
    // thread fails with EAGAIN, as under a pids limit. The files become that user's to read.
    constexpr uid_t k_nobody = 65534;
    for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
        REQUIRE(::chown(entry.path().c_str(), k_nobody, k_nobody) == 0);
    REQUIRE(::chown(dir.path().c_str(), k_nobody, k_nobody) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const rlimit one{1, 1};
        if (::setgid(k_nobody) != 0 || ::setuid(k_nobody) != 0 || ::setrlimit(RLIMIT_NPROC, &one) != 0) ::_exit(2);
        try {
            common::RecordStore store(dir.path());
            reconciler::RecordIndex index(store);
            index.rescan();
            ::_exit(index.size() == 600 ? 0 : 1);
        } catch (...) {
            ::_exit(3);
        }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // 1: records missing, 2: setup failed, 3: the read threw
}
