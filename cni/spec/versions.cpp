#include "cni/spec/versions.hpp"

#include <algorithm>
#include <charconv>

namespace anycast::cni {

bool is_supported_version(std::string_view version) {
    return std::find(k_supported_versions.begin(), k_supported_versions.end(), version) != k_supported_versions.end();
}

namespace {

// The next dot-separated number of `text`, consumed; 0 when absent or not a number.
unsigned next_part(std::string_view& text) {
    const auto dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    unsigned value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    return value;
}

}  // namespace

int compare_versions(std::string_view a, std::string_view b) {
    for (int i = 0; i < 3; ++i) {
        const unsigned x = next_part(a);
        const unsigned y = next_part(b);
        if (x != y) return x < y ? -1 : 1;
    }
    return 0;
}

}  // namespace anycast::cni
