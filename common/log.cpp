#include "common/log.hpp"

#include "common/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace anycast::common::log {

namespace {

struct Sink {
    int fd = STDERR_FILENO;
    bool owned = false;
    Level level = Level::info;
    std::vector<Field> context;
    int batches = 0;      // open Batch scopes
    std::string pending;  // whole lines held by them

    ~Sink() {
        if (owned) ::close(fd);
    }
};

Sink& sink() {
    static Sink instance;
    return instance;
}

constexpr std::size_t k_batch_flush_bytes = 64 * 1024;

void flush_pending(Sink& s) {
    if (s.pending.empty()) return;
    [[maybe_unused]] const auto written = ::write(s.fd, s.pending.data(), s.pending.size());
    s.pending.clear();
}

bool needs_quotes(std::string_view value) {
    if (value.empty()) return true;
    for (char c : value) {
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
    }
    return false;
}

void append_value(std::string& out, std::string_view value) {
    if (!needs_quotes(value)) {
        out += value;
        return;
    }
    out += '"';
    for (char c : value) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

std::string now_rfc3339() {
    const auto now = std::chrono::system_clock::now();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                       utc.tm_hour, utc.tm_min, utc.tm_sec, micros % 1'000'000);
}

}  // namespace

std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "info";
}

bool parse_level(std::string_view text, Level& out) {
    for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
        if (text == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

std::string format_line(std::string_view timestamp, Level level, std::string_view message,
                        const std::vector<Field>& fields) {
    std::string line;
    line.reserve(96 + message.size());
    line += "ts=";
    line += timestamp;
    line += " level=";
    line += level_name(level);
    line += " msg=";
    append_value(line, message);
    for (const auto& field : fields) {
        line += ' ';
        line += field.key;
        line += '=';
        append_value(line, field.value);
    }
    return line;
}

void set_level(Level level) { sink().level = level; }

Level level() { return sink().level; }

void log_to_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("open log file {}", path);
    Sink& s = sink();
    flush_pending(s);  // lines of an open batch go where they were logged
    if (s.owned) ::close(s.fd);
    s.fd = fd;
    s.owned = true;
}

void log_to_stderr() {
    Sink& s = sink();
    flush_pending(s);
    if (s.owned) ::close(s.fd);
    s.fd = STDERR_FILENO;
    s.owned = false;
}

void set_context(std::vector<Field> fields) { sink().context = std::move(fields); }

void write(Level level, std::string_view message, std::vector<Field> fields) {
    Sink& s = sink();
    if (level < s.level) return;
    std::vector<Field> all = s.context;
    all.insert(all.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
    std::string line = format_line(now_rfc3339(), level, message, all);
    line += '\n';
    if (s.batches > 0) {
        s.pending += line;
        if (s.pending.size() >= k_batch_flush_bytes) flush_pending(s);
        return;
    }
    // A lost log line must never fail the operation being logged.
    [[maybe_unused]] const auto written = ::write(s.fd, line.data(), line.size());
}

Batch::Batch() { ++sink().batches; }

Batch::~Batch() {
    Sink& s = sink();
    if (--s.batches == 0) flush_pending(s);
}

}  // namespace anycast::common::log
