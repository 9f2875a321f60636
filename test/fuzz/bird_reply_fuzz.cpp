// Fuzz target bird_reply: what BIRD's control socket sends, line by line, as the control
// client reads it (reconciler/bird/bird_reply, bird_control_client.cpp): the greeting reply,
// then the command's reply, each ended by its last line; a malformed line drops the
// connection. The grammar answers; it throws nothing.
#include "reconciler/bird/bird_reply.hpp"
#include "test/fuzz/fuzz_support.hpp"

#include <string>

namespace {

using namespace anycast;
using namespace anycast::reconciler;
using anycast::fuzz::require;

void check(const BirdReply& reply) {
    require(!reply.lines.empty(), "a complete reply has a line");
    for (const auto& line : reply.lines) require(line.code >= 0 && line.code <= 9999, "a code has four digits");
    require(!(is_configure_success(reply.code()) && is_bird_error(reply.code())), "success and error exclusive");
    (void)reply.text();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest = fuzz::as_text(data, size);
    BirdReplyParser parser;
    int replies = 0;
    // The client reads '\n'-ended lines; bytes after the last '\n' are a line still arriving.
    while (replies < 2) {
        const auto newline = rest.find('\n');
        if (newline == std::string_view::npos) break;
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline + 1);
        const auto result = parser.feed(line);
        if (result == BirdReplyParser::Result::malformed) break;
        if (result == BirdReplyParser::Result::done) {
            const BirdReply reply = parser.take();
            check(reply);
            ++replies;
            // The greeting must be 0001, or the client gives up before sending its command.
            if (replies == 1 && reply.code() != 1) break;
        }
    }
    return 0;
}
