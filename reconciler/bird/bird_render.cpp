#include "reconciler/bird/bird_render.hpp"

#include <algorithm>

namespace anycast::reconciler {

namespace {

void append_set(std::string& out, const char* name, const std::vector<common::Prefix>& sorted, common::Family family) {
    out += "define ";
    out += name;
    out += " = [";
    bool first = true;
    for (const auto& prefix : sorted) {
        if (prefix.family() != family) continue;
        out += first ? " " : ", ";
        out += prefix.to_string();
        first = false;
    }
    out += " ];\n";
}

}  // namespace

std::string render_bird_sets(std::vector<common::Prefix> prefixes) {
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    std::string out =
        "# Written by flock-anycast serve: the anycast prefixes it has routes for.\n"
        "# Do not edit; it is rewritten on every change and read by flock.conf.\n";
    append_set(out, k_bird_set_v4, prefixes, common::Family::v4);
    append_set(out, k_bird_set_v6, prefixes, common::Family::v6);
    return out;
}

}  // namespace anycast::reconciler
