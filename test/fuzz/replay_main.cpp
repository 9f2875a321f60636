// The driver that makes the fuzz targets unit tests in builds without libFuzzer (fuzz=false,
// test/fuzz/meson.build): runs LLVMFuzzerTestOneInput once over every file of the directories
// and files given as arguments (directories recursively, in name order; those after
// --allow-missing may be absent), as libFuzzer does when given a corpus without -runs. A
// crash, sanitizer report or broken invariant fails the test; the file that caused it is the
// last one named on stderr.
#include "test/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_of(const fs::path& path, bool allow_missing) {
    std::vector<fs::path> files;
    if (allow_missing && !fs::exists(path)) return files;
    if (fs::is_directory(path)) {
        for (const auto& entry : fs::recursive_directory_iterator(path)) {
            if (entry.is_regular_file()) files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
    } else if (fs::is_regular_file(path)) {
        files.push_back(path);
    } else {
        throw std::runtime_error(path.string() + ": no such file or directory");
    }
    return files;
}

std::string read_input(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot open: " + std::strerror(errno));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " DIR_OR_FILE... [--allow-missing DIR_OR_FILE...]\n";
        return 2;
    }
    std::vector<std::pair<fs::path, std::string>> inputs;
    try {
        // Paths after --allow-missing may not exist (a target's regressions/ before its first
        // crash): the test list is made when meson configures, not when a directory appears.
        bool allow_missing = false;
        for (int i = 1; i < argc; ++i) {
            if (std::string_view(argv[i]) == "--allow-missing") {
                allow_missing = true;
                continue;
            }
            for (const auto& file : inputs_of(argv[i], allow_missing)) inputs.emplace_back(file, read_input(file));
        }
    } catch (const std::exception& e) {
        std::cerr << "replay: " << e.what() << "\n";
        return 2;
    }
    // An empty corpus would make the test pass without testing anything.
    if (inputs.empty()) {
        std::cerr << "replay: no inputs found\n";
        return 1;
    }
    // Nothing is caught around the target: what escapes it is the crash libFuzzer would report.
    for (const auto& [file, bytes] : inputs) {
        // An exactly-sized heap copy, as libFuzzer passes it: AddressSanitizer then reports a
        // read one past the end.
        auto copy = std::make_unique<std::uint8_t[]>(bytes.size());
        std::memcpy(copy.get(), bytes.data(), bytes.size());
        std::cerr << "replay: " << file.string() << " (" << bytes.size() << " bytes)\n";
        LLVMFuzzerTestOneInput(copy.get(), bytes.size());
    }
    std::cout << "replayed " << inputs.size() << " inputs\n";
    return 0;
}
