// What every fuzz target of test/fuzz/ shares: the libFuzzer entry point's declaration, the
// input as text, quiet logs. A target catches the errors its parser documents (those are
// answers, not bugs) and lets anything else escape: an undocumented exception, a failed
// invariant (fuzz::require) or a sanitizer report is a crash for libFuzzer and for the replay
// test alike.
#pragma once

#include "common/log.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace anycast::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Parsers log what they skip (a malformed pod, a broken route): at a million inputs a second
// that is noise and most of the time. Errors still show.
inline void quiet_logs() {
    static const bool once = [] {
        common::log::set_level(common::log::Level::error);
        return true;
    }();
    (void)once;
}

// An invariant of the parser's contract; a broken one aborts, which libFuzzer and the replay
// driver report as a crash with this message.
inline void require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

// Splits at the first '\n': a target that takes two inputs (CNI_ARGS and stdin, say) reads
// them from one file this way. No newline: all of it is the second part.
struct TwoParts {
    std::string_view first;
    std::string_view second;
};

inline TwoParts split_first_line(std::string_view text) {
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) return {{}, text};
    return {text.substr(0, newline), text.substr(newline + 1)};
}

}  // namespace anycast::fuzz
