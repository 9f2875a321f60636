// Fuzz target node: the node's own Node object as serve's node watch reads it
// (common/kube/node_info): line 1 as a watch event line (parse_watch_envelope + parse_node),
// the rest as the list it GETs first (parse_node_list). Expected: JsonError for what is not a
// well-formed event or list.
#include "common/json_reader.hpp"
#include "common/kube/node_info.hpp"
#include "common/kube/watch_event.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <boost/json.hpp>

namespace {

using namespace anycast;
using namespace anycast::common::kube;
using anycast::fuzz::require;

void check(const NodeInfo& node) {
    require(node.same_drain_view(node), "a node's drain view equals itself");
    NodeInfo other = node;
    other.unschedulable = !node.unschedulable;
    require(!other.same_drain_view(node), "a cordon changes the drain view");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    const auto [line, body] = fuzz::split_first_line(fuzz::as_text(data, size));
    try {
        NodeInfo node;
        const WatchEnvelope event = parse_watch_envelope(line, [&](const boost::json::value& object) {
            node = parse_node(object);
            return node.resource_version;
        });
        if (event.type != WatchEventType::bookmark && event.type != WatchEventType::error) check(node);
    } catch (const common::JsonError&) {
        // not an event: the watcher skips the line
    }
    try {
        for (const auto& node : parse_node_list(body).nodes) check(node);
    } catch (const common::JsonError&) {
        // not a list: the watcher fails that attempt and retries
    }
    return 0;
}
