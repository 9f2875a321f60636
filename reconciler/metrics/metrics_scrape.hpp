// Reading serve's figures back from its endpoint, for `status` while serve runs: fetch
// /metrics (blocking, for a command-line tool; never on serve's loop) and parse the text.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace anycast::reconciler {

// Series → value, the series spelled as the exposition has it, e.g.
// `flock_anycast_routes_installed{family="ipv4"}` or `flock_anycast_records`. Comments and
// blank lines are skipped; std::invalid_argument names a line that is not `series value`.
std::map<std::string, double> parse_exposition(std::string_view text);

struct HttpAnswer {
    unsigned status = 0;
    std::string body;
};

// GET http://<listen><target> (e.g. "/readyz"), whatever the status; std::runtime_error naming
// the address when nothing answers or `timeout` passes first, or when `listen` is empty.
HttpAnswer http_get(const std::string& listen, const std::string& target, std::chrono::milliseconds timeout);

// GET http://<listen>/metrics and return the body; std::runtime_error naming the address when
// nothing answers, the answer is not 200, or `timeout` passes first. `listen` is
// metrics.listen (an empty one is an error: the endpoint is disabled).
std::string fetch_metrics(const std::string& listen, std::chrono::milliseconds timeout);

}  // namespace anycast::reconciler
