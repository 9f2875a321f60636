// Fuzz target metrics_http: the bytes a client sends to the metrics endpoint on one connection
// (reconciler/metrics/metrics_server: answer_connection — Beast's request parser with the
// endpoint's limits, then its routing of /metrics, /healthz, /readyz), with serve's real
// metric set behind it. The first byte sets readiness (bit 0: first pass done, bit 1: source
// synced) and the request bound (bit 2: 512 bytes instead of 8 KiB); the rest is the stream.
// The endpoint answers whatever comes; nothing is thrown.
#include "reconciler/metrics/health.hpp"
#include "reconciler/metrics/metrics.hpp"
#include "reconciler/metrics/metrics_server.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <set>
#include <string>

namespace {

using namespace anycast;
using namespace anycast::reconciler;
using anycast::fuzz::require;

// "HTTP/1.1 404 Not Found\r\n..." → 404.
unsigned status_of(const std::string& answer) {
    require(answer.size() > 12 && answer.starts_with("HTTP/") && answer[6] == '.' && answer[8] == ' ',
            "an answer starts with a status line");
    return static_cast<unsigned>((answer[9] - '0') * 100 + (answer[10] - '0') * 10 + (answer[11] - '0'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::quiet_logs();
    if (size == 0) return 0;
    // Built once: the registry's content does not change what the parser sees.
    static Metrics metrics;
    Health health;
    if (data[0] & 1) health.set_first_pass_done();
    health.set_readiness_synced((data[0] & 2) != 0, "fuzz: not synced");
    MetricsServerOptions options;
    if (data[0] & 4) options.max_request_bytes = 512;
    unsigned scrapes = 0;
    options.before_metrics = [&scrapes] { ++scrapes; };

    const auto answers = answer_connection(fuzz::as_text(data + 1, size - 1), metrics.registry, health, options);
    static const std::set<unsigned> k_statuses = {200, 404, 405, 413, 431, 503};
    for (std::size_t i = 0; i < answers.size(); ++i) {
        const unsigned status = status_of(answers[i]);
        require(k_statuses.count(status) == 1, "an answer's status is one the endpoint gives");
        if (status == 413 || status == 431) require(i + 1 == answers.size(), "a too-large request is the last");
    }
    require(scrapes <= answers.size(), "before_metrics runs once per /metrics answer at most");
    return 0;
}
