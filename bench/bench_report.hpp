// What every benchmark shares: order statistics, the log-log growth fit, and the result lines
// bench/run.sh collects into one table. A result line is tab-separated:
//   RESULT <figure> <ours> <floor> <ratio> <target> <met>
// with "-" for a field that does not apply; <met> is yes, NO or report (a figure shown for
// readers, with no target). Misses are printed, never turned into an exit status: a
// benchmark fails only when it could not measure.
// BENCH_ROUNDS (environment) sets the rounds of the round-based comparisons; BENCH_VERBOSE=1
// prints every round.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace anycast::bench {

inline bool verbose() {
    const char* value = std::getenv("BENCH_VERBOSE");
    return value != nullptr && std::string(value) == "1";
}

// The rounds a comparison runs: BENCH_ROUNDS when set, else `fallback`; never below `least`.
inline int rounds(int fallback, int least = 1) {
    const char* value = std::getenv("BENCH_ROUNDS");
    const int asked = value != nullptr ? std::atoi(value) : fallback;
    return std::max(least, asked > 0 ? asked : fallback);
}

// Nearest-rank quantile (q = 0.5: the median; of 500 samples, q = 0.99 is the 495th).
inline double quantile(std::vector<double> values, double q) {
    if (values.empty()) throw std::invalid_argument("quantile of no samples");
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

inline double median(const std::vector<double>& values) { return quantile(values, 0.5); }

// Least-squares slope of log(y) over log(x): y ∝ x^k, k = 1 is linear.
inline double fitted_exponent(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size() || x.size() < 2) throw std::invalid_argument("fitted_exponent needs two points or more");
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const auto n = static_cast<double>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double lx = std::log(x[i]), ly = std::log(y[i]);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

// One row of bench/run.sh's table. `ours` and `floor` are already formatted with their units.
inline void result(const std::string& figure, const std::string& ours, const std::string& floor, double ratio,
                   const std::string& target, const char* met) {
    const std::string ratio_text = std::isfinite(ratio) && ratio > 0 ? fmt::format("{:.2f}", ratio) : "-";
    fmt::print("RESULT\t{}\t{}\t{}\t{}\t{}\t{}\n", figure, ours, floor.empty() ? "-" : floor, ratio_text, target, met);
    std::fflush(stdout);
}

inline const char* met(bool yes) { return yes ? "yes" : "NO"; }

// Every round's samples, when asked for (BENCH_VERBOSE=1).
inline void print_rounds(const std::string& what, const std::vector<double>& values, const char* unit = "ms") {
    if (!verbose()) return;
    fmt::print("  rounds, {} ({}):", what, unit);
    for (const double v : values) fmt::print(" {:.3f}", v);
    fmt::print("\n");
}

}  // namespace anycast::bench
