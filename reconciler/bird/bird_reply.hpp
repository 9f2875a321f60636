// BIRD's control-socket reply grammar (docs/bird.md, "The control socket, as measured"):
// `DDDD-text` (more lines follow), ` text` (continues the previous code; one space stripped),
// `DDDD text` (the last line; may be just `DDDD` or `DDDD `). Pure, fed one line at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

struct BirdReplyLine {
    int code = 0;
    std::string text;
};

struct BirdReply {
    std::vector<BirdReplyLine> lines;

    // The final line's code, e.g. 3 for "0003 Reconfigured"; 0 for an empty reply.
    int code() const { return lines.empty() ? 0 : lines.back().code; }
    // Every line's text joined by newlines: BIRD's own words, for logs.
    std::string text() const;
};

// The codes `configure` (and `configure check`) answer on success: 0003 reconfigured,
// 0004 in progress, 0005 queued, 0020 configuration OK.
bool is_configure_success(int code);
// 8xxx (run-time errors, e.g. 8002 config error) and 9xxx (parse errors).
bool is_bird_error(int code);

class BirdReplyParser {
public:
    enum class Result { more, done, malformed };

    // Feeds one line without its '\n'. After `done`, take() the reply; after `malformed` the
    // connection is out of step and should be dropped.
    Result feed(std::string_view line);
    BirdReply take();

private:
    BirdReply reply_;
};

}  // namespace anycast::reconciler
