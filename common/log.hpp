// Structured logging: one line per event, "ts=… level=… msg=… key=value …", written with a
// single write(2) so lines from concurrent processes (CNI) do not interleave. Never stdout:
// in CNI mode stdout belongs to the result JSON.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anycast::common::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::string_view level_name(Level level);
// "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);

struct Field {
    std::string key;
    std::string value;
};

// A key=value field; the value is formatted with fmt.
// Forwarding, so that a view made in the call (fmt::join) may be passed.
template <typename T>
Field kv(std::string_view key, T&& value) {
    return Field{std::string(key), fmt::format("{}", std::forward<T>(value))};
}

// Formats one line without the trailing newline (exposed for tests).
std::string format_line(std::string_view timestamp, Level level, std::string_view message,
                        const std::vector<Field>& fields);

// Process-wide sink configuration. Defaults: stderr, level info.
void set_level(Level level);
Level level();
// Appends to `path` (O_APPEND, created 0600); throws SystemError naming the path on failure.
void log_to_file(const std::string& path);
void log_to_stderr();
// Fields added to every line from now on (e.g. containerID in CNI mode).
void set_context(std::vector<Field> fields);

void write(Level level, std::string_view message, std::vector<Field> fields = {});

// While one lives, lines are collected and written together (whole lines, at 64 KiB and at
// its end) instead of one write(2) each: serve logs one line per route change, 2 000 of them
// at a cold start. Single-threaded use only (serve's loop).
class Batch {
public:
    Batch();
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
};

inline void debug(std::string_view m, std::vector<Field> f = {}) { write(Level::debug, m, std::move(f)); }
inline void info(std::string_view m, std::vector<Field> f = {}) { write(Level::info, m, std::move(f)); }
inline void warn(std::string_view m, std::vector<Field> f = {}) { write(Level::warn, m, std::move(f)); }
inline void error(std::string_view m, std::vector<Field> f = {}) { write(Level::error, m, std::move(f)); }

}  // namespace anycast::common::log
