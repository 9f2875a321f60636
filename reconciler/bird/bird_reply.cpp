#include "reconciler/bird/bird_reply.hpp"

#include <utility>

namespace anycast::reconciler {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string BirdReply::text() const {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) out += '\n';
        out += line.text;
    }
    return out;
}

bool is_configure_success(int code) { return code == 3 || code == 4 || code == 5 || code == 20; }

bool is_bird_error(int code) { return code >= 8000 && code <= 9999; }

BirdReplyParser::Result BirdReplyParser::feed(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == ' ') {
        // A continuation belongs to the code of the line before it; none before is an error.
        if (reply_.lines.empty()) return Result::malformed;
        reply_.lines.push_back(BirdReplyLine{reply_.lines.back().code, std::string(line.substr(1))});
        return Result::more;
    }
    if (line.size() < 4 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) || !is_digit(line[3])) {
        return Result::malformed;
    }
    const int code = (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
    if (line.size() == 4) {
        reply_.lines.push_back(BirdReplyLine{code, ""});
        return Result::done;
    }
    const char separator = line[4];
    if (separator != '-' && separator != ' ') return Result::malformed;
    reply_.lines.push_back(BirdReplyLine{code, std::string(line.substr(5))});
    return separator == '-' ? Result::more : Result::done;
}

BirdReply BirdReplyParser::take() { return std::exchange(reply_, BirdReply{}); }

}  // namespace anycast::reconciler
