// Fuzz target node_config: the node config file's text (common/config/node_config_loader,
// docs/architecture.md section 3), as serve and the CNI read it, then the inline merge the CNI
// does with a network config's fields and the metrics.listen value serve parses from it.
// Expected: JsonError (not JSON), ConfigError (naming the field), std::invalid_argument from
// parse_listen_address. Anything else escaping is a crash.
#include "common/config/node_config_loader.hpp"
#include "common/config/policy.hpp"
#include "common/json_reader.hpp"
#include "reconciler/metrics/metrics_listen.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <cstdlib>
#include <stdexcept>

namespace {

using namespace anycast;
using anycast::fuzz::require;

// A parsed config's values are within their documented bounds.
void check(const common::NodeConfig& config) {
    require(!config.state_dir.empty(), "stateDir is never empty");
    require(config.routes.protocol >= 5 && config.routes.protocol <= 255, "routes.protocol in [5, 255]");
    require(config.routes.table != 0 && config.routes.table != 255, "routes.table is not 0 or 255");
    require(config.routes.rule_priority != 0, "routes.rulePriority is not 0");
    require(config.routes.resilient_buckets >= 16, "routes.resilientBuckets in [16, 65535]");
    require(config.routes.resilient_idle_seconds <= 3600, "routes.resilientIdleSeconds in [0, 3600]");
    require(config.resync_seconds >= 1 && config.resync_seconds <= 86400, "resyncSeconds in [1, 86400]");
    require(!common::overlapping_namespaces(config.policy), "listed namespaces' prefixes never overlap");
    try {
        const auto listen = reconciler::parse_listen_address(config.metrics.listen);
        require(listen.has_value() != config.metrics.listen.empty(), "only an empty metrics.listen disables");
    } catch (const std::invalid_argument&) {}
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    // The node name's default is $NODE_NAME, then gethostname(): a fixed one spares the call.
    static const bool node_name_set = setenv("NODE_NAME", "fuzz-node", 1) == 0;
    require(node_name_set, "setenv NODE_NAME");

    boost::json::value doc;
    try {
        doc = common::parse_json(fuzz::as_text(data, size), "config.json");
    } catch (const common::JsonError&) {
        return 0;
    }
    common::NodeConfig config;
    bool parsed = false;
    try {
        config = common::parse_node_config(doc, "config.json");
        parsed = true;
        check(config);
    } catch (const common::ConfigError&) {}
    // The CNI's way: the same document's node-config fields inline over it (a no-op merge
    // must give the same config), and over the defaults.
    if (const auto* object = doc.if_object()) {
        const boost::json::value fields = common::node_config_fields(*object);
        try {
            const auto merged = common::parse_node_config(common::merge_config(doc, fields), "merged");
            require(parsed && merged == config, "merging a config's own fields over it changes nothing");
        } catch (const common::ConfigError&) {
            require(!parsed, "merging a valid config's own fields over it stays valid");
        }
        try {
            check(common::parse_node_config(common::merge_config(boost::json::object{}, fields), "inline"));
        } catch (const common::ConfigError&) {}
    }
    return 0;
}
