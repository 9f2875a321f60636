// Fuzz target watch_event: the body of a pod watch as it arrives, in chunks that have nothing
// to do with lines (common/kube/watch_event: LineSplitter, parse_watch_event), each event then
// applied to the pod cache as the watcher does (common/kube/pod_cache). The first byte picks
// the chunk size; the rest is the stream. Expected: JsonError for a malformed line (the watcher
// skips it). The lines must not depend on the chunking; the cache must stay consistent.
#include "common/json_reader.hpp"
#include "common/kube/pod_cache.hpp"
#include "common/kube/watch_event.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace anycast;
using namespace anycast::common::kube;
using anycast::fuzz::require;

std::vector<std::string> split(std::string_view stream, std::size_t chunk) {
    LineSplitter splitter;
    std::vector<std::string> lines;
    while (!stream.empty()) {
        const std::size_t n = std::min(chunk, stream.size());
        splitter.append(stream.substr(0, n), lines);
        stream.remove_prefix(n);
    }
    return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    const std::string_view stream = fuzz::as_text(data + 1, size - 1);

    const auto lines = split(stream, chunk);
    require(lines == split(stream, stream.size() + 1), "the lines do not depend on the chunking");

    PodCache cache;
    for (const auto& line : lines) {
        // One '\r' of a CRLF ending is dropped; a line may end with more (JSON whitespace).
        require(!line.empty() && line.find('\n') == std::string::npos, "a line is non-empty, without its newline");
        WatchEvent event;
        try {
            event = parse_watch_event(line);
        } catch (const common::JsonError&) {
            continue;
        }
        switch (event.type) {
            case WatchEventType::added:
            case WatchEventType::modified: {
                require(event.resource_version == event.pod.resource_version,
                        "an event's resourceVersion is its pod's");
                const std::string key = event.pod.key();
                const common::PodState state = event.pod.state();
                const auto changes = cache.upsert(std::move(event.pod));
                require(cache.find(key) != nullptr, "an upserted pod is in the cache");
                for (const auto& change : changes) {
                    require(change.key == key && change.after == state, "an upsert reports the pod's new state");
                }
                break;
            }
            case WatchEventType::deleted: {
                const std::string key = event.pod.key();
                (void)cache.remove(key);
                require(cache.find(key) == nullptr, "a deleted pod is gone from the cache");
                break;
            }
            case WatchEventType::bookmark: break;
            case WatchEventType::error:
                require(event.error_code >= 0 && event.error_code <= 999, "an ERROR code in [0, 999]");
                break;
        }
    }
    require(cache.snapshot().size() == cache.size(), "the snapshot lists every cached pod");
    return 0;
}
