// The house rules of docs/architecture.md, checked on the source tree: the layering of the
// folders, log keys in one case, and comments that cite the project's own docs.
#include "test/support/source_tree.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using anycast::test::k_source_dir;
using anycast::test::read_file;

namespace {

namespace fs = std::filesystem;

// A source file's layer: its folder, with common/'s base files as "common".
std::string layer_of(const std::string& relative) {
    const auto slash = relative.rfind('/');
    return slash == std::string::npos ? "main" : relative.substr(0, slash);
}

// Which layers each layer may include (its own always). Lower layers never include higher
// ones; cni/ and reconciler/ never include each other (docs/architecture.md, "Layers").
const std::map<std::string, std::set<std::string>>& allowed_includes() {
    static const std::set<std::string> common_all = {"common", "common/config", "common/store", "common/netlink",
                                                     "common/kube"};
    static const auto with = [](std::set<std::string> extra) {
        extra.insert(common_all.begin(), common_all.end());
        return extra;
    };
    static const std::map<std::string, std::set<std::string>> allowed = {
        {"common", {}},
        {"common/pch", {}},  // the libraries' precompiled header: external headers only
        {"common/config", {"common"}},
        {"common/store", {"common"}},
        {"common/netlink", {"common"}},
        {"common/kube", {"common"}},
        {"cni/spec", with({})},
        {"cni", with({"cni/spec"})},
        {"reconciler/pipeline", with({})},
        {"reconciler/readiness", with({"reconciler/pipeline"})},
        {"reconciler/bird", with({"reconciler/pipeline"})},
        {"reconciler/metrics", with({"reconciler/pipeline", "reconciler/readiness"})},
        {"reconciler/serve",
         with({"reconciler/pipeline", "reconciler/readiness", "reconciler/bird", "reconciler/metrics"})},
        {"reconciler/cli", with({"reconciler/pipeline", "reconciler/readiness", "reconciler/bird", "reconciler/metrics",
                                 "reconciler/serve"})},
        {"main", with({"cni", "cni/spec", "reconciler/cli"})},
    };
    return allowed;
}

// The project's own sources (not tests, benchmarks or examples), relative to the tree.
std::vector<std::string> project_sources() {
    std::vector<std::string> files{"main.cpp"};
    for (const char* top : {"common", "cni", "reconciler"}) {
        for (const auto& entry : fs::recursive_directory_iterator(k_source_dir / top)) {
            const auto ext = entry.path().extension();
            if (entry.is_regular_file() && (ext == ".cpp" || ext == ".hpp")) {
                files.push_back(fs::relative(entry.path(), k_source_dir).string());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> matches(const std::string& text, const std::regex& pattern) {
    std::vector<std::string> found;
    for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) found.push_back((*it)[1]);
    return found;
}

}  // namespace

TEST_CASE("every project source sits in a known layer", "[unit]") {
    const auto files = project_sources();
    REQUIRE(files.size() > 100);
    for (const auto& file : files) {
        INFO(file);
        CHECK(allowed_includes().count(layer_of(file)) == 1);
    }
}

TEST_CASE("no layer includes a higher one", "[unit]") {
    const std::regex include(R"re(#include "([^"]+)")re");
    for (const auto& file : project_sources()) {
        const std::string from = layer_of(file);
        const auto allowed = allowed_includes().find(from);
        if (allowed == allowed_includes().end()) continue;  // reported by the test above
        for (const auto& header : matches(read_file(k_source_dir / file), include)) {
            const std::string to = layer_of(header);
            INFO(file << " includes " << header);
            CHECK((to == from || allowed->second.count(to) == 1));
        }
    }
}

TEST_CASE("log keys are camelCase, like the record JSON", "[unit]") {
    const std::regex key(R"re(\bkv\("([^"]*)")re");
    const std::regex camel_case("[a-z][a-zA-Z0-9]*");
    std::size_t seen = 0;
    for (const auto& file : project_sources()) {
        for (const auto& name : matches(read_file(k_source_dir / file), key)) {
            INFO(file << ": log key \"" << name << "\"");
            CHECK(std::regex_match(name, camel_case));
            ++seen;
        }
    }
    CHECK(seen > 50);
}

TEST_CASE("code comments cite the project's docs, not files outside the repository", "[unit]") {
    for (const auto& file : project_sources()) {
        const std::string text = read_file(k_source_dir / file);
        INFO(file);
        CHECK(text.find("../shared") == std::string::npos);
        CHECK(text.find("DESIGN.md") == std::string::npos);
    }
}

TEST_CASE("docs/architecture.md names every module of the tree", "[unit]") {
    const std::string map = read_file(k_source_dir / "docs" / "architecture.md");
    for (const auto& file : project_sources()) {
        const std::string stem = fs::path(file).stem().string();
        INFO(file << ": module \"" << stem << "\" is not in docs/architecture.md's module map");
        CHECK(std::regex_search(map, std::regex("\\b" + stem + "\\b")));
    }
}
