// Fuzz target metrics_scrape: the exposition text `status` reads back from serve's /metrics
// (reconciler/metrics/metrics_scrape: parse_exposition). Expected: std::invalid_argument naming
// a line that is not `series value`.
#include "reconciler/metrics/metrics_scrape.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <stdexcept>

namespace {

using namespace anycast;
using anycast::fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        for (const auto& [series, value] : reconciler::parse_exposition(fuzz::as_text(data, size))) {
            require(!series.empty() && series.find('\n') == std::string::npos && series.front() != '#',
                    "a series is one non-empty, non-comment line's name");
            (void)value;
        }
    } catch (const std::invalid_argument&) {}
    return 0;
}
