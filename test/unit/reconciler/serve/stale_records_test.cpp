// Which records serve may sweep as stale: only those whose netns is provably gone.
#include "reconciler/serve/stale_records.hpp"

#include "test/support/record_builder.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace anycast;
using anycast::test::RecordBuilder;
using anycast::test::TempDir;

TEST_CASE("a netns counts as gone only when its directory is there and it is not", "[unit]") {
    TempDir dir("netns");
    std::ofstream(dir.file("alive")) << "";
    CHECK_FALSE(reconciler::netns_gone(dir.file("alive")));
    CHECK(reconciler::netns_gone(dir.file("deleted")));
    // A directory serve cannot see (not mounted into its pod): no judgement, nothing removed.
    CHECK_FALSE(reconciler::netns_gone(dir.file("not-mounted/cni-1234")));
    CHECK_FALSE(reconciler::netns_gone(""));
    CHECK_FALSE(reconciler::netns_gone("relative/path"));
}

TEST_CASE("a task's /proc/<pid>/ns/net is gone with its process, when serve sees the host's pids", "[unit]") {
    CHECK_FALSE(reconciler::netns_gone("/proc/" + std::to_string(::getpid()) + "/ns/net"));
    // Pids are at most 2^22 on Linux: this one never runs. Judged only from the initial pid
    // namespace (serve on the host); from a pod's own pid namespace the host's pids are unseen.
    CHECK(reconciler::netns_gone("/proc/999999999/ns/net") == reconciler::in_initial_pid_namespace());
    // Not a task's namespace path: the directory rule applies (there is no /proc/12a/ns).
    CHECK_FALSE(reconciler::netns_gone("/proc/12a/ns/net"));
}

TEST_CASE("remove_stale_records removes the records whose netns is gone, unless the file changed meanwhile", "[unit]") {
    TempDir dir("stale");
    std::ofstream(dir.file("alive")) << "";
    common::RecordStore store(dir.file("state"));
    const auto make = [&](const char* id, const std::string& netns) {
        return RecordBuilder("k8s", id).netns(netns).pod("dns", id).ip("10.255.53.53").nexthop("10.0.0.2", "v").build();
    };
    store.put(make("alive", dir.file("alive")));
    store.put(make("gone", dir.file("gone")));
    store.put(make("replaced", dir.file("old")));
    std::vector<reconciler::RouteRecord> records;
    for (const auto& record : store.list())
        records.push_back(reconciler::route_record(reconciler::record_name(record), record));
    // A new ADD gave "replaced" a live namespace after the index read it.
    store.put(make("replaced", dir.file("alive")));
    std::vector<const reconciler::RouteRecord*> pointers;
    for (const auto& record : records) pointers.push_back(&record);

    CHECK(reconciler::remove_stale_records(store, pointers, true).empty());  // dry run
    CHECK(store.list().size() == 3);
    CHECK(reconciler::remove_stale_records(store, pointers, false) == std::vector<std::string>{"k8s_gone_eth0.json"});
    const auto left = store.list();
    REQUIRE(left.size() == 2);
    CHECK(left[0].container_id == "alive");
    CHECK(left[1].container_id == "replaced");
}
