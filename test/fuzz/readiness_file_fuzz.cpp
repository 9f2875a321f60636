// Fuzz target readiness_file: the pod-state file of the `file` readiness source
// (reconciler/readiness/pod_states_json), which another process writes and serve re-reads on
// every change. Expected: JsonError naming the file and the entry; serve then keeps the last
// good state.
#include "common/json_reader.hpp"
#include "reconciler/readiness/pod_states_json.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <string>

namespace {

using namespace anycast;
using anycast::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    try {
        const auto pods = reconciler::parse_pod_states(fuzz::as_text(data, size), "pods.json");
        (void)pods;
    } catch (const common::JsonError& e) {
        require(std::string(e.what()).starts_with("pods.json"), "a readiness file error names the file");
    }
    return 0;
}
