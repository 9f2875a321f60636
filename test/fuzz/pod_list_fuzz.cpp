// Fuzz target pod_list: one page of the pod list the watcher GETs before it watches
// (common/kube/pod_info: parse_pod_list), then the full-list replace of the cache it feeds
// (common/kube/pod_cache), and the annotation split the CNI does on each pod (annotation_ips).
// Expected: JsonError for a body that is not a list; a bad item is skipped, not fatal.
#include "common/json_reader.hpp"
#include "common/kube/pod_cache.hpp"
#include "common/kube/pod_info.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <set>
#include <string>

namespace {

using namespace anycast;
using namespace anycast::common::kube;
using anycast::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    PodListPage page;
    try {
        page = parse_pod_list(fuzz::as_text(data, size));
    } catch (const common::JsonError&) {
        return 0;
    }
    std::set<std::string> keys;
    for (const auto& pod : page.pods) {
        keys.insert(pod.key());
        for (const auto& ip : annotation_ips(pod, "anycast.flock.io/ips")) {
            require(!ip.empty() && ip.find(',') == std::string::npos && ip.front() != ' ' && ip.back() != ' ',
                    "an annotation item is trimmed and non-empty");
        }
    }
    PodCache cache;
    (void)cache.replace(page.pods);
    require(cache.size() == keys.size(), "a full list leaves exactly its pods in the cache");
    const auto changes = cache.replace({});
    require(changes.size() == keys.size() && cache.size() == 0, "an empty list removes every pod, each reported");
    return 0;
}
