// The operator's documentation matches the code: every node-config field in
// docs/configuration.md's table is one the loader applies (with the documented type and
// default), every field the loader applies is documented, and docs/operations.md lists every
// metric serve exports.
#include "common/json_reader.hpp"
#include "common/config/node_config.hpp"
#include "common/config/node_config_loader.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "test/support/source_tree.hpp"

#include <boost/json.hpp>
#include <boost/pfr.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;
using anycast::common::NodeConfig;

namespace {

using anycast::test::read_file;

const fs::path k_docs = anycast::test::k_source_dir / "docs";

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// "`x`" → "x"; anything else → nullopt.
std::optional<std::string> code(const std::string& cell) {
    if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`' && cell.find('`', 1) == cell.size() - 1) {
        return cell.substr(1, cell.size() - 2);
    }
    return std::nullopt;
}

struct Row {
    std::string path;  // "routes.table"
    std::string type;
    std::string default_cell;
    json::value example;
};

// The rows of the field table: lines "| `path` | type | default | meaning | `example` |".
std::vector<Row> documented_fields() {
    std::vector<Row> rows;
    std::istringstream lines(read_file(k_docs / "configuration.md"));
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("| `")) continue;
        std::vector<std::string> cells;
        std::istringstream parts(line.substr(1));
        for (std::string cell; std::getline(parts, cell, '|');) cells.push_back(trim(cell));
        INFO(line);
        REQUIRE(cells.size() == 5);
        const auto path = code(cells[0]);
        const auto example = code(cells[4]);
        REQUIRE(path);
        REQUIRE(example);
        rows.push_back(Row{*path, cells[1], cells[2], anycast::common::parse_json(*example, *path)});
    }
    return rows;
}

// {"routes": {"table": value}} for "routes.table".
json::value document_with(const std::string& path, const json::value& value) {
    json::value doc = json::object{};
    json::object* at = &doc.as_object();
    std::string rest = path;
    for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
        at = &(*at)[rest.substr(0, dot)].emplace_object();
        rest = rest.substr(dot + 1);
    }
    (*at)[rest] = value;
    return doc;
}

// The config's leaves (fields that are not themselves plain structs), named by their field
// index path ("/6/1" = routes.table), and those where `a` and `b` differ. Walking the structs
// with Boost.PFR means a field added to NodeConfig shows up here without touching this test.
template <typename T>
void compare_leaves(const T& a, const T& b, const std::string& path, std::set<std::string>& leaves,
                    std::set<std::string>& differing) {
    if constexpr (std::is_class_v<T> && std::is_aggregate_v<T>) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (compare_leaves(boost::pfr::get<I>(a), boost::pfr::get<I>(b), path + "/" + std::to_string(I), leaves,
                            differing),
             ...);
        }
        (std::make_index_sequence<boost::pfr::tuple_size_v<T>>{});
    } else {
        leaves.insert(path);
        if (!(a == b)) differing.insert(path);
    }
}

std::set<std::string> differing_leaves(const NodeConfig& a, const NodeConfig& b, std::set<std::string>* all = nullptr) {
    std::set<std::string> leaves;
    std::set<std::string> differing;
    compare_leaves(a, b, "", leaves, differing);
    if (all) *all = leaves;
    return differing;
}

NodeConfig parse(const json::value& doc) { return anycast::common::parse_node_config(doc, "docs"); }

bool has_type(const json::value& value, const std::string& type) {
    if (type.starts_with("string") || type.starts_with("`\"")) return value.is_string();
    if (type.starts_with("integer")) return value.is_int64() || value.is_uint64();
    if (type.starts_with("boolean")) return value.is_bool();
    if (type.starts_with("array")) return value.is_array();
    if (type.starts_with("object")) return value.is_object();
    return false;
}

}  // namespace

TEST_CASE("docs/configuration.md documents exactly the fields the node-config loader applies", "[unit]") {
    // `node` defaults to $NODE_NAME: pin it so the example surely differs.
    ::setenv("NODE_NAME", "docs-test-default-node", 1);
    const auto rows = documented_fields();
    REQUIRE(rows.size() >= 10);
    std::set<std::string> all_leaves;
    const NodeConfig defaults = parse(json::object{});
    differing_leaves(defaults, defaults, &all_leaves);

    std::map<std::string, std::string> documented_leaf;  // leaf → the row that sets it
    for (const auto& row : rows) {
        INFO("field " << row.path << ", example " << json::serialize(row.example));
        CHECK(has_type(row.example, row.type));
        const auto changed = differing_leaves(defaults, parse(document_with(row.path, row.example)));
        CHECK_FALSE(changed.empty());  // documented but ignored by the loader, or example == default
        for (const auto& leaf : changed) {
            const auto [it, fresh] = documented_leaf.try_emplace(leaf, row.path);
            INFO("leaf " << leaf << " also set by " << it->second);
            CHECK(fresh);
        }
        // A default written as a JSON value is the loader's default.
        if (const auto text = code(row.default_cell)) {
            const auto value = anycast::common::parse_json(*text, row.path + " default");
            CHECK(differing_leaves(defaults, parse(document_with(row.path, value))).empty());
        }
    }
    for (const auto& leaf : all_leaves) {
        INFO("NodeConfig field " << leaf << " (index path) has no row in docs/configuration.md");
        CHECK(documented_leaf.count(leaf) == 1);
    }
    ::unsetenv("NODE_NAME");
}

TEST_CASE("the documented top-level fields are the ones a CNI plugin entry may carry inline", "[unit]") {
    json::object doc{{"type", "flock-anycast"}, {"cniVersion", "1.1.0"}, {"prevResult", json::object{}}};
    std::set<std::string> top_level;
    for (const auto& row : documented_fields()) {
        const std::string name = row.path.substr(0, row.path.find('.'));
        top_level.insert(name);
        doc[name] = nullptr;
    }
    std::set<std::string> inline_fields;
    for (const auto& [key, value] : anycast::common::node_config_fields(doc)) inline_fields.insert(std::string(key));
    CHECK(inline_fields == top_level);
}

TEST_CASE("the complete example in docs/configuration.md loads", "[unit]") {
    const std::string text = read_file(k_docs / "configuration.md");
    const auto start = text.find("```json\n");
    REQUIRE(start != std::string::npos);
    const auto end = text.find("```", start + 8);
    const auto config = parse(anycast::common::parse_json(text.substr(start + 8, end - start - 8), "example"));
    CHECK(config.node == "worker-1");
    CHECK(config.policy.namespaces.count("dns") == 1);
}

TEST_CASE("docs/operations.md lists every metric serve exports", "[unit]") {
    const std::string operations = read_file(k_docs / "operations.md");
    const anycast::reconciler::Metrics metrics;
    std::istringstream lines(metrics.registry.render());
    int names = 0;
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("# TYPE ")) continue;
        const std::string name = line.substr(7, line.find(' ', 7) - 7);
        INFO(name);
        CHECK(operations.find("`" + name + "`") != std::string::npos);
        ++names;
    }
    CHECK(names == 25);
}
