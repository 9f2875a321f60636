#include "common/store/record_json.hpp"
#include "common/store/record_store.hpp"

#include "test/support/record_builder.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace anycast::common;
using anycast::test::RecordBuilder;
using anycast::test::TempDir;
namespace fs = std::filesystem;

namespace {

Record make_record(const std::string& network, const std::string& id, const std::string& ip = "10.255.0.1") {
    return RecordBuilder(network, id)
        .netns("/run/netns/" + id)
        .pod("default", "pod-" + id)
        .ip(ip)
        .nexthop("10.0.0.2", "veth0")
        .created("2026-11-24T10:00:00Z")
        .build();
}

unsigned mode_of(const std::string& path) { return static_cast<unsigned>(fs::status(path).permissions()); }

std::size_t count_files(const std::string& dir) {
    if (!fs::exists(dir)) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("record store: put, get, list and remove one file per attachment", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path() + "/state");
    CHECK(store.list().empty());
    CHECK_FALSE(store.get("net", "c1", "eth0"));

    store.put(make_record("net", "c1"));
    store.put(make_record("net", "c2", "10.255.0.2"));
    store.put(make_record("other", "c1", "10.255.0.3"));
    CHECK(fs::exists(dir.path() + "/state/records/net_c1_eth0.json"));
    auto got = store.get("net", "c1", "eth0");
    REQUIRE(got);
    CHECK(serialize_record(*got) == serialize_record(make_record("net", "c1")));

    auto all = store.list();
    REQUIRE(all.size() == 3);
    CHECK(all[0].container_id == "c1");
    CHECK(all[0].network == "net");
    CHECK(all[2].network == "other");

    // Replacing keeps one file.
    store.put(make_record("net", "c1", "10.255.0.9"));
    CHECK(store.get("net", "c1", "eth0")->ips.at(0).to_string() == "10.255.0.9");
    CHECK(store.list().size() == 3);

    CHECK(store.remove("net", "c1", "eth0"));
    CHECK_FALSE(store.remove("net", "c1", "eth0"));
    CHECK(store.list().size() == 2);
    CHECK(count_files(store.tmp_dir()) == 0);
}

TEST_CASE("record store: files are 0600 and directories 0700", "[unit]") {
    TempDir dir("rs");
    const std::string state = dir.file("state");  // not there yet: the store makes it
    const mode_t old_umask = ::umask(0);
    RecordStore store(state);
    store.put(make_record("net", "c1"));
    ::umask(old_umask);
    CHECK(mode_of(state) == 0700);
    CHECK(mode_of(store.records_dir()) == 0700);
    CHECK(mode_of(store.quarantine_dir()) == 0700);
    CHECK(mode_of(store.tmp_dir()) == 0700);
    CHECK(mode_of(store.lock_path()) == 0600);
    CHECK(mode_of(store.record_path("net", "c1", "eth0")) == 0600);
}

TEST_CASE("record store: names are escaped so no part can leave records/ or hide the file", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.put(make_record("../x", "c1"));
    CHECK(fs::exists(store.records_dir() + "/%2E.%2Fx_c1_eth0.json"));
    REQUIRE(store.get("../x", "c1", "eth0"));
    CHECK(store.list().size() == 1);
    CHECK_THROWS_WITH(store.remove("net", "c", ""), "record name: ifname is empty");
    CHECK_THROWS_WITH(store.get("net", std::string(300, 'a'), "eth0"), Catch::Contains("too long"));
    CHECK(count_files(store.records_dir()) == 1);
}

TEST_CASE("record store: file names are injective", "[unit]") {
    struct Case {
        const char* network;
        const char* container_id;
        const char* ifname;
        const char* stem;
    };
    const Case cases[] = {
        {"k8s-pod-network", "0123abcd", "eth0", "k8s-pod-network_0123abcd_eth0"},  // the usual: unchanged
        {"a_b", "c", "eth0", "a%5Fb_c_eth0"},
        {"a", "b_c", "eth0", "a_b%5Fc_eth0"},
        {"net", "x", "a%5Fb", "net_x_a%255Fb"},
        {".hidden", "c.1", "eth0", "%2Ehidden_c.1_eth0"},
        {"..", "c", "e/th\n", "%2E._c_e%2Fth%0A"},
    };
    for (const auto& c : cases) {
        INFO(c.stem);
        CHECK(RecordStore::stem(c.network, c.container_id, c.ifname) == c.stem);
    }
    // The collision of the unescaped scheme: both were "a_b_c_eth0".
    CHECK(RecordStore::file_name("a_b", "c", "eth0") != RecordStore::file_name("a", "b_c", "eth0"));
}

TEST_CASE("record store: attachments whose parts contain '_' keep one record each; DEL of one leaves the other",
          "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.put(make_record("a_b", "c", "10.255.0.1"));
    store.put(make_record("a", "b_c", "10.255.0.2"));
    CHECK(store.list().size() == 2);
    REQUIRE(store.get("a_b", "c", "eth0"));
    CHECK(store.get("a_b", "c", "eth0")->ips[0].to_string() == "10.255.0.1");
    CHECK(store.get("a", "b_c", "eth0")->ips[0].to_string() == "10.255.0.2");
    CHECK(store.remove("a", "b_c", "eth0"));
    REQUIRE(store.get("a_b", "c", "eth0"));
    CHECK(count_files(store.quarantine_dir()) == 0);
    CHECK(store.list().size() == 1);
}

TEST_CASE("record store: a record under its pre-escaping name is found, replaced and removed, but only its own",
          "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.check_usable();
    // What an older build wrote for network "my_net": the name without escaping.
    const std::string legacy = store.records_dir() + "/my_net_c1_eth0.json";
    std::ofstream(legacy) << serialize_record(make_record("my_net", "c1")) << "\n";
    REQUIRE(store.get("my_net", "c1", "eth0"));
    // The same old name, read as another attachment ("my", "net_c1"): not its record.
    CHECK_FALSE(store.get("my", "net_c1", "eth0"));
    CHECK_FALSE(store.remove("my", "net_c1", "eth0"));
    CHECK(fs::exists(legacy));

    SECTION("put moves it to the escaped name") {
        store.put(make_record("my_net", "c1", "10.255.0.9"));
        CHECK_FALSE(fs::exists(legacy));
        CHECK(fs::exists(store.record_path("my_net", "c1", "eth0")));
        CHECK(store.list().size() == 1);
    }
    SECTION("remove removes it") {
        CHECK(store.remove("my_net", "c1", "eth0"));
        CHECK(count_files(store.records_dir()) == 0);
    }
}

TEST_CASE("record store: a record of a newer version is read by the fields it knows, else left in place", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.put(make_record("net", "newer"));
    store.put(make_record("net", "unreadable"));
    auto newer = record_to_json(make_record("net", "newer"));
    newer.as_object()["version"] = 2;
    newer.as_object()["flowLabel"] = 7;
    std::ofstream(store.record_path("net", "newer", "eth0"), std::ios::trunc) << boost::json::serialize(newer);
    // Version 2 changed what "ips" holds: this build cannot read it.
    std::ofstream(store.record_path("net", "unreadable", "eth0"), std::ios::trunc)
        << R"({"version":2,"network":"net","containerID":"unreadable","ifname":"eth0","ips":[{"address":"10.255.0.1"}]})";

    const auto records = store.list();
    REQUIRE(records.size() == 1);
    CHECK(records[0].container_id == "newer");
    CHECK(records[0].version == 2);
    CHECK(fs::exists(store.record_path("net", "unreadable", "eth0")));
    CHECK(count_files(store.quarantine_dir()) == 0);
    CHECK_THROWS_AS(store.get("net", "unreadable", "eth0"), RecordTooNewError);
    CHECK_THROWS_WITH(store.get("net", "unreadable", "eth0"), Catch::Contains("newer than this build's 1"));
}

TEST_CASE("record store: a corrupt record is quarantined by list with a log line, never thrown", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.put(make_record("net", "good"));
    store.put(make_record("net", "bad"));
    std::ofstream(store.record_path("net", "bad", "eth0"), std::ios::trunc) << "{\"version\": 1, \"network\": ";
    CHECK_THROWS_WITH(store.get("net", "bad", "eth0"),
                      Catch::StartsWith("record " + store.record_path("net", "bad", "eth0") + " is corrupt: "));
    const auto records = store.list();
    REQUIRE(records.size() == 1);
    CHECK(records[0].container_id == "good");
    CHECK_FALSE(fs::exists(store.record_path("net", "bad", "eth0")));
    REQUIRE(count_files(store.quarantine_dir()) == 1);
    CHECK(fs::directory_iterator(store.quarantine_dir())->path().filename().string().starts_with("net_bad_eth0.json."));
    // Version 0 was never written: corrupt, not "newer".
    store.put(make_record("net", "v0"));
    std::ofstream(store.record_path("net", "v0", "eth0"), std::ios::trunc)
        << R"({"version":0,"network":"net","containerID":"v0","ifname":"eth0","ips":[]})";
    CHECK(store.list().size() == 1);
    CHECK(count_files(store.quarantine_dir()) == 2);
}

TEST_CASE("record store: list sees files changed and removed by another store object", "[unit]") {
    TempDir dir("rs");
    RecordStore writer(dir.path());
    RecordStore reader(dir.path());
    for (int i = 0; i < 20; ++i) writer.put(make_record("net", fmt::format("c{:02}", i)));
    CHECK(reader.list().size() == 20);
    writer.put(make_record("net", "c05", "10.255.0.77"));
    writer.remove("net", "c07", "eth0");
    const auto records = reader.list();
    REQUIRE(records.size() == 19);
    CHECK(records[5].ips.at(0).to_string() == "10.255.0.77");
}

TEST_CASE("record store: the lock is exclusive across processes and re-entrant within one store", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    StoreLock outer(store);
    {
        StoreLock inner(store);  // nested: must not deadlock on our own flock
        store.put(make_record("net", "c1"));
    }
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Another process: flock must fail while the parent holds the lock.
        const int fd = ::open((dir.path() + "/lock").c_str(), O_RDWR);
        _exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

// Needs the fault hook (meson -Dtest_hooks=true; test/run.sh sets it).
#ifdef FLOCK_TEST_HOOKS
TEST_CASE("record store: a writer killed before its rename leaves no torn record; the next put cleans up", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    store.put(make_record("net", "c1"));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::setenv("FLOCK_TEST_FAULT", "store-before-rename", 1);
        RecordStore child_store(dir.path());
        child_store.put(make_record("net", "c1", "10.255.0.99"));
        _exit(3);  // not reached when the hook is compiled in
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(count_files(store.tmp_dir()) == 1);
    CHECK(store.get("net", "c1", "eth0")->ips.at(0).to_string() == "10.255.0.1");  // old record intact

    store.put(make_record("net", "c2"));
    CHECK(count_files(store.tmp_dir()) == 0);
    CHECK(store.list().size() == 2);
}
#endif

TEST_CASE("record store: check_usable names the path that is not usable", "[unit]") {
    TempDir dir("rs");
    RecordStore good(dir.path() + "/s");
    CHECK_NOTHROW(good.check_usable());
    std::ofstream(dir.path() + "/file") << "x";
    RecordStore bad(dir.path() + "/file/state");
    CHECK_THROWS_WITH(bad.check_usable(), "create directory " + dir.path() + "/file: Not a directory");
    CHECK_THROWS_AS(bad.put(make_record("net", "c1")), StoreError);
}

TEST_CASE("record store: a state directory it cannot trust is refused, naming why, and nothing is written", "[unit]") {
    TempDir dir("rs");
    const auto refused = [](const std::string& state_dir, const std::string& message) {
        INFO(state_dir);
        RecordStore store(state_dir);
        CHECK_THROWS_WITH(store.check_usable(), message);
        CHECK_THROWS_AS(store.put(make_record("net", "c1")), StoreError);
    };
    // A symlink to a real directory: it could point the store anywhere.
    fs::create_directory(dir.file("real"));
    fs::create_directory_symlink(dir.file("real"), dir.file("link"));
    refused(dir.file("link"), dir.file("link") + ": is a symlink; the state directory must be a real one");
    CHECK(count_files(dir.file("real")) == 0);
    // Writable by its group, or by everyone.
    for (const unsigned mode : {0770u, 0777u, 0702u}) {
        const std::string state = dir.file(fmt::format("mode{:o}", mode));
        fs::create_directory(state);
        ::chmod(state.c_str(), mode);
        refused(state,
                fmt::format("{}: mode {:04o} lets its group or others write; refusing it (chmod go-w)", state, mode));
        CHECK(count_files(state) == 0);
    }
    // records/ inside a good state directory, made writable by others.
    const std::string good = dir.file("good");
    RecordStore(good).check_usable();
    ::chmod((good + "/records").c_str(), 0777);
    refused(good, good + "/records: mode 0777 lets its group or others write; refusing it (chmod go-w)");
    // Owned by another user: root can make one; anyone else is not the owner of /usr.
    std::string foreign = "/usr";
    if (::geteuid() == 0) {
        foreign = dir.file("foreign");
        fs::create_directory(foreign);
        REQUIRE(::chown(foreign.c_str(), 65534, 65534) == 0);
    }
    struct stat st {};
    REQUIRE(::stat(foreign.c_str(), &st) == 0);
    refused(foreign, fmt::format("{}: owned by uid {}, not by uid {} (this process); refusing it", foreign, st.st_uid,
                                 ::geteuid()));
    // A relative path: where it lands depends on the caller's working directory.
    refused("var/lib/flock-anycast", "state directory \"var/lib/flock-anycast\": not an absolute path");
}

TEST_CASE("record store: lists 10 000 records and sees changes on the next pass", "[unit]") {
    TempDir dir("rs");
    RecordStore store(dir.path());
    // Write the files directly (fsync per put would make this test slow); list() reads them.
    fs::create_directories(store.records_dir());
    for (int i = 0; i < 10000; ++i) {
        const Record record = make_record("net", fmt::format("c{:05}", i));
        std::ofstream(store.records_dir() + "/" + RecordStore::file_name("net", record.container_id, "eth0"))
            << serialize_record(record);
    }
    REQUIRE(store.list().size() == 10000);
    // A second list sees a record added since.
    store.put(make_record("net", "extra"));
    const auto again = store.list();
    REQUIRE(again.size() == 10001);
    CHECK(again.back().container_id == "extra");
}
