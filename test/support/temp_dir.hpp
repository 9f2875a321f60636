// A temporary directory for one test (or lab, or benchmark), removed with everything in it
// when the owner goes away. The only one in test/ and bench/: unit tests may use it too (it
// needs no root), see test/meson.build.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace anycast::test {

class TempDir {
public:
    // Creates <parent>/flock-<tag>-XXXXXX (mkdtemp), mode 0755; throws std::runtime_error
    // naming the path and errno when it cannot.
    explicit TempDir(std::string_view tag = "test",
                     const std::filesystem::path& parent = std::filesystem::temp_directory_path());
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    // Moving hands the directory over: the moved-from object removes nothing.
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;

    const std::string& path() const { return path_; }
    // <path>/<name>; nothing is created.
    std::string file(const std::string& name) const;
    // Writes `text` to <path>/<name>, creating the directories in `name` first; returns the
    // file's path. Throws naming the file when it cannot.
    std::string write(const std::string& name, const std::string& text) const;

private:
    void remove() noexcept;

    std::string path_;
};

}  // namespace anycast::test
