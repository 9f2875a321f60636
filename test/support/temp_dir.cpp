#include "test/support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace anycast::test {

namespace fs = std::filesystem;

TempDir::TempDir(std::string_view tag, const fs::path& parent) {
    std::string pattern = (parent / ("flock-" + std::string(tag) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    // mkdtemp makes it 0700. Processes the tests start may not run as root (BIRD drops
    // privileges on some builds; a test runs a store as nobody): they must reach their files.
    if (::chmod(pattern.c_str(), 0755) != 0) {
        const int error = errno;
        ::rmdir(pattern.c_str());
        throw std::runtime_error("chmod 0755 " + pattern + ": " + std::strerror(error));
    }
    path_ = std::move(pattern);
}

TempDir::~TempDir() { remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

std::string TempDir::file(const std::string& name) const { return path_ + "/" + name; }

std::string TempDir::write(const std::string& name, const std::string& text) const {
    const fs::path target = file(name);
    std::error_code error;
    fs::create_directories(target.parent_path(), error);
    if (error) throw std::runtime_error("create directory " + target.parent_path().string() + ": " + error.message());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("write " + target.string() + " failed");
    return target.string();
}

void TempDir::remove() noexcept {
    if (path_.empty()) return;
    std::error_code error;
    fs::remove_all(path_, error);
    // A destructor cannot fail the test; a leftover directory in /tmp is worth a line.
    if (error) std::fprintf(stderr, "TempDir: remove %s: %s\n", path_.c_str(), error.message().c_str());
    path_.clear();
}

}  // namespace anycast::test
