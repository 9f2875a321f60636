// Reading files of the source tree (examples/, docs/) from the unit tests that check them.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace anycast::test {

inline const std::filesystem::path k_source_dir = FLOCK_SOURCE_DIR;

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace anycast::test
