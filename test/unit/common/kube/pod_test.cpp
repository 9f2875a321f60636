// Pure parts of the Kubernetes client: Pod JSON as the apiserver sends it, watch event lines,
// line reassembly across chunks, the cache's eligibility changes, the reconnect backoff.
#include "common/json_reader.hpp"
#include "common/kube/pod_cache.hpp"
#include "common/kube/pod_info.hpp"
#include "common/kube/watch_event.hpp"

#include <catch2/catch.hpp>

#include <map>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

using namespace anycast::common;
using namespace anycast::common::kube;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(FLOCK_KUBE_FIXTURES) + "/" + name);
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> fixture_lines(const std::string& name) {
    std::vector<std::string> lines;
    std::istringstream in(fixture(name));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

PodInfo pod(const std::string& name, bool ready, bool deleting = false, const std::string& uid = "u1",
            const std::string& rv = "1") {
    PodInfo p;
    p.namespace_ = "dns";
    p.name = name;
    p.uid = uid;
    p.resource_version = rv;
    p.ready = ready;
    p.deleting = deleting;
    return p;
}

}  // namespace

TEST_CASE("a full Pod object from the apiserver yields only the fields we keep", "[unit][kube]") {
    const auto info = parse_pod(boost::json::parse(fixture("pod_ready.json")));
    CHECK(info.namespace_ == "dns");
    CHECK(info.name == "resolver-7d9c8b6f5-x2x4k");
    CHECK(info.uid == "3c1f6b7e-2d0a-4b8e-9a51-6f2f0e7d4c11");
    CHECK(info.resource_version == "482913");
    CHECK(info.ready);
    CHECK_FALSE(info.deleting);
    // Only the anycast annotation is kept, not restartedAt.
    CHECK(info.annotations ==
          std::map<std::string, std::string>{{"anycast.flock.io/ips", "10.255.53.53, fd00:255::53"}});
    CHECK(info.key() == "dns/resolver-7d9c8b6f5-x2x4k");
    // Another key is kept when asked for.
    CHECK(parse_pod(boost::json::parse(fixture("pod_ready.json")), "kubectl.kubernetes.io/restartedAt").annotations ==
          std::map<std::string, std::string>{{"kubectl.kubernetes.io/restartedAt", "2026-11-20T08:00:00Z"}});
    CHECK(info.state() == PodState{.namespace_ = "dns",
                                   .name = "resolver-7d9c8b6f5-x2x4k",
                                   .uid = "3c1f6b7e-2d0a-4b8e-9a51-6f2f0e7d4c11",
                                   .ready = true,
                                   .deleting = false});
}

TEST_CASE("a terminating pod is deleting and not ready", "[unit][kube]") {
    const auto info = parse_pod(boost::json::parse(fixture("pod_terminating.json")));
    CHECK(info.deleting);
    CHECK_FALSE(info.ready);
    CHECK(info.resource_version == "483170");
}

TEST_CASE("a pod with the announced readiness gate is eligible on ContainersReady, not on Ready", "[unit][kube]") {
    // The kubelet holds Ready at False until our condition is True: eligibility on Ready
    // would wait for itself.
    auto doc = boost::json::parse(fixture("pod_gated.json"));
    auto info = parse_pod(doc);
    CHECK(info.announced_gate);
    CHECK_FALSE(info.ready);
    CHECK(info.containers_ready);
    CHECK_FALSE(info.announced_condition.has_value());
    CHECK(info.state().ready);

    auto& conditions = doc.at("status").at("conditions").as_array();
    conditions.push_back(boost::json::object{{"type", "anycast.flock.io/announced"}, {"status", "True"}});
    CHECK(parse_pod(doc).announced_condition == true);
    for (auto& condition : conditions) {
        if (condition.at("type") == "ContainersReady") condition.as_object()["status"] = "False";
    }
    info = parse_pod(doc);
    CHECK_FALSE(info.state().ready);

    // Without the gate, ContainersReady alone is not enough.
    const auto plain = parse_pod(boost::json::parse(fixture("pod_ready.json")));
    CHECK_FALSE(plain.announced_gate);
    PodInfo not_ready = plain;
    not_ready.ready = false;
    CHECK(not_ready.containers_ready);
    CHECK_FALSE(not_ready.state().ready);
}

TEST_CASE("a pod without status or conditions is not ready", "[unit][kube]") {
    const auto info = parse_pod(boost::json::parse(
        R"({"metadata":{"namespace":"a","name":"b","uid":"c","annotations":null},"status":{"phase":"Pending"}})"));
    CHECK_FALSE(info.ready);
    CHECK(info.annotations.empty());
}

TEST_CASE("a pod missing its identity is an error naming the field", "[unit][kube]") {
    CHECK_THROWS_WITH(parse_pod(boost::json::parse(R"({"metadata":{"namespace":"a","name":"b"}})")),
                      Catch::Matchers::Contains("pod.metadata.uid"));
    CHECK_THROWS_AS(parse_pod(boost::json::parse(R"({"metadata":{"namespace":"a","name":7,"uid":"u"}})")), JsonError);
}

TEST_CASE("annotation_ips splits at commas and trims", "[unit][kube]") {
    const auto info = parse_pod(boost::json::parse(fixture("pod_ready.json")));
    CHECK(annotation_ips(info, "anycast.flock.io/ips") == std::vector<std::string>{"10.255.53.53", "fd00:255::53"});
    CHECK(annotation_ips(parse_pod(boost::json::parse(fixture("pod_ready.json")), "other/key"), "other/key").empty());
    PodInfo p = pod("x", true);
    p.annotations["k"] = " ,10.0.0.1,, 10.0.0.2 ,";
    CHECK(annotation_ips(p, "k") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
    p.annotations["k"] = "";
    CHECK(annotation_ips(p, "k").empty());
}

TEST_CASE("watch event lines of every type, as the apiserver writes them", "[unit][kube]") {
    const auto lines = fixture_lines("watch_stream.jsonl");
    REQUIRE(lines.size() == 5);
    const auto added = parse_watch_event(lines[0]);
    CHECK(added.type == WatchEventType::added);
    CHECK(added.pod.ready);
    CHECK(added.resource_version == "482913");
    const auto bookmark = parse_watch_event(lines[1]);
    CHECK(bookmark.type == WatchEventType::bookmark);
    CHECK(bookmark.resource_version == "483001");
    const auto modified = parse_watch_event(lines[2]);
    CHECK(modified.type == WatchEventType::modified);
    CHECK(modified.pod.deleting);
    CHECK(modified.resource_version == "483170");
    CHECK(parse_watch_event(lines[3]).type == WatchEventType::deleted);
    const auto error = parse_watch_event(lines[4]);
    CHECK(error.type == WatchEventType::error);
    CHECK(error.error_code == 410);
    CHECK(error.error_message == "too old resource version: 482913 (483190)");
}

TEST_CASE("malformed watch event lines are errors, not crashes", "[unit][kube]") {
    for (const char* line : {"{", "not json", "[]", R"({"type":"ADDED"})", R"({"type":"SURPRISE","object":{}})",
                             R"({"type":"ADDED","object":{"metadata":{}}})", R"({"type":"BOOKMARK","object":{}})"}) {
        INFO(line);
        CHECK_THROWS_AS(parse_watch_event(line), JsonError);
    }
}

TEST_CASE("lines are reassembled whatever the chunk boundaries", "[unit][kube]") {
    std::string stream;
    for (const auto& line : fixture_lines("watch_stream.jsonl")) stream += line + "\n";
    for (std::size_t piece : {1u, 7u, 100u, 4096u, 100000u}) {
        INFO("piece " << piece);
        LineSplitter splitter;
        std::vector<std::string> lines;
        for (std::size_t at = 0; at < stream.size(); at += piece) {
            splitter.append(std::string_view(stream).substr(at, piece), lines);
        }
        CHECK(lines == fixture_lines("watch_stream.jsonl"));
        CHECK(splitter.pending() == 0);
    }
    LineSplitter splitter;
    std::vector<std::string> lines;
    splitter.append("{\"a\":1}\r\n\n{\"b\"", lines);
    CHECK(lines == std::vector<std::string>{"{\"a\":1}"});
    CHECK(splitter.pending() == 4);
}

TEST_CASE("the cache reports eligibility changes and nothing else", "[unit][kube]") {
    PodCache cache;
    auto changes = cache.upsert(pod("a", false));
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].before);
    CHECK(changes[0].after->ready == false);

    SECTION("resourceVersion and annotation churn is not a change") {
        auto p = pod("a", false, false, "u1", "2");
        p.annotations["x"] = "y";
        CHECK(cache.upsert(p).empty());
        CHECK(cache.find("dns/a")->resource_version == "2");
    }
    SECTION("Ready flipping is a change") {
        changes = cache.upsert(pod("a", true));
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].before->ready == false);
        CHECK(changes[0].after->ready == true);
    }
    SECTION("DeletionTimestamp appearing is a change") {
        changes = cache.upsert(pod("a", false, true));
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].after->deleting);
    }
    SECTION("a new uid under the same name is a change") {
        changes = cache.upsert(pod("a", false, false, "u2"));
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].after->uid == "u2");
    }
    SECTION("deletion is a change, deleting an unknown pod is not") {
        changes = cache.remove("dns/a");
        REQUIRE(changes.size() == 1);
        CHECK_FALSE(changes[0].after);
        CHECK(cache.remove("dns/a").empty());
        CHECK(cache.size() == 0);
    }
    SECTION("a relist removes vanished pods and reports only real changes") {
        cache.upsert(pod("b", true));
        changes = cache.replace({pod("b", true, false, "u1", "9"), pod("c", true)});
        REQUIRE(changes.size() == 2);
        CHECK(changes[0].key == "dns/a");
        CHECK_FALSE(changes[0].after);
        CHECK(changes[1].key == "dns/c");
        CHECK_FALSE(changes[1].before);
        CHECK(cache.snapshot().size() == 2);
        CHECK(cache.find("dns/b")->resource_version == "9");
    }
}
