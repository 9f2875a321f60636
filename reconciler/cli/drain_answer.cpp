#include "reconciler/cli/drain_answer.hpp"

#include <fmt/format.h>

namespace anycast::reconciler {

std::string render_drain_answer(const common::ServeCommandAnswer& answer) {
    std::string text = answer.state + (answer.reason.empty() ? "" : " (" + answer.reason + ")") + "\n";
    if (!answer.since.empty()) text += fmt::format("  {} since {}\n", answer.state, answer.since);
    for (const auto& reason : answer.reasons)
        text += fmt::format("  reason {}: {} (since {})\n", reason.cause, reason.text, reason.since);
    if (!answer.note.empty()) text += "note: " + answer.note + "\n";
    return text;
}

}  // namespace anycast::reconciler
