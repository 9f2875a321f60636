#include "reconciler/bird/bird_render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

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

std::string render_bird_sets(std::vector<common::Prefix> prefixes, std::string_view attributes) {
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    std::string out =
        "# Written by flock-anycast serve: the anycast prefixes it has routes for.\n"
        "# Do not edit; it is rewritten on every change and read by flock.conf.\n";
    append_set(out, k_bird_set_v4, prefixes, common::Family::v4);
    append_set(out, k_bird_set_v6, prefixes, common::Family::v6);
    out += attributes;
    return out;
}

std::string render_bird_attributes(const common::BgpSettings& bgp,
                                   std::optional<std::uint32_t> drain_local_preference) {
    std::string out =
        "# Per-prefix BGP attributes (bgp.prefixes in the node config), most specific prefix first.\n"
        "function flock_prefix_attributes()\n{\n";
    bool first = true;
    for (const auto& entry : bgp.prefixes) {
        // The family test first: a prefix set of the other family never matches. One chain of
        // else-ifs: the first (most specific) entry that contains the prefix applies.
        fmt::format_to(std::back_inserter(out), "    {}if net.type = {} && net ~ [ {}+ ] then {{\n",
                       first ? "" : "else ", entry.prefix.family() == common::Family::v4 ? "NET_IP4" : "NET_IP6",
                       entry.prefix.to_string());
        first = false;
        for (const auto& [asn, value] : entry.communities) {
            fmt::format_to(std::back_inserter(out), "        bgp_community.add(({}, {}));\n", asn, value);
        }
        for (const auto& [global, one, two] : entry.large_communities) {
            fmt::format_to(std::back_inserter(out), "        bgp_large_community.add(({}, {}, {}));\n", global, one,
                           two);
        }
        if (entry.local_preference) {
            fmt::format_to(std::back_inserter(out), "        bgp_local_pref = {};\n", *entry.local_preference);
        }
        if (entry.med) fmt::format_to(std::back_inserter(out), "        bgp_med = {};\n", *entry.med);
        for (int i = 0; i < entry.prepend; ++i) {
            fmt::format_to(std::back_inserter(out), "        bgp_path.prepend({});\n", bgp.asn);
        }
        out += "    }\n";
    }
    if (drain_local_preference) {
        fmt::format_to(std::back_inserter(out),
                       "    # Draining: RFC 8326 graceful shutdown, then the withdrawal.\n"
                       "    bgp_community.add((65535, 0));\n"
                       "    bgp_local_pref = {};\n",
                       *drain_local_preference);
    }
    out += "    return true;\n}\n";
    return out;
}

}  // namespace anycast::reconciler
