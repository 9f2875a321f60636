// The executable install-cni.sh copies to the node must run there with nothing but glibc
// (packaging/README.md): its NEEDED list is glibc's, no symbol asks for a glibc newer than the
// oldest we support (2.36, Debian 12's), and it runs in a root that holds only glibc's two
// files. Sanitized builds need their runtimes and are not what is shipped: they are skipped.
#include "test/support/process.hpp"
#include "test/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

using namespace anycast::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> needed_libraries() {
    const std::string dynamic = sh("readelf -d " + flock_binary());
    std::vector<std::string> needed;
    const std::regex library(R"(Shared library: \[([^\]]+)\])");
    for (std::sregex_iterator it(dynamic.begin(), dynamic.end(), library), end; it != end; ++it) {
        needed.push_back((*it)[1]);
    }
    return needed;
}

bool sanitized() {
    for (const std::string& lib : needed_libraries()) {
        if (lib.rfind("libasan", 0) == 0 || lib.rfind("libubsan", 0) == 0) return true;
    }
    return false;
}

// The file a library name resolves to on this host, as the dynamic loader finds it.
fs::path host_library(const std::string& name) {
    for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"}) {
        if (fs::exists(fs::path(dir) / name)) return fs::canonical(fs::path(dir) / name);
    }
    FAIL("no " << name << " on this host");
    return {};
}

}  // namespace

TEST_CASE("the executable asks for no glibc symbol version newer than 2.36", "[cli]") {
    const std::string versions = sh("readelf -V --wide " + flock_binary());
    INFO(versions);
    const std::regex glibc(R"(GLIBC_2\.([0-9]+))");
    int newest = 0;
    for (std::sregex_iterator it(versions.begin(), versions.end(), glibc), end; it != end; ++it) {
        newest = std::max(newest, std::stoi((*it)[1]));
    }
    CHECK(newest > 0);
    CHECK(newest <= 36);
    if (!sanitized()) {
        // libstdc++ and libgcc_s are linked in: no GLIBCXX_/CXXABI_/GCC_ versions to satisfy.
        CHECK(versions.find("GLIBCXX_") == std::string::npos);
        CHECK(versions.find("CXXABI_") == std::string::npos);
        CHECK(versions.find("GCC_") == std::string::npos);
    }
}

TEST_CASE("the executable runs in a root holding nothing but glibc", "[cli]") {
    if (sanitized()) {
        WARN("sanitized build: it needs libasan and libubsan, and is not what is shipped");
        return;
    }
    TempDir root("portability");
    const fs::path dir(root.path());
    // The loader at the path the ELF header names, libc where Debian's loader looks first; no
    // ld.so.cache, no libmnl, Boost, OpenSSL, yaml-cpp, fmt or libstdc++.
    fs::create_directories(dir / "lib64");
    fs::create_directories(dir / "lib/x86_64-linux-gnu");
    fs::copy_file(host_library("ld-linux-x86-64.so.2"), dir / "lib64/ld-linux-x86-64.so.2");
    fs::copy_file(host_library("libc.so.6"), dir / "lib/x86_64-linux-gnu/libc.so.6");
    fs::copy_file(flock_binary(), dir / "flock-anycast");
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
    }
    std::sort(files.begin(), files.end());
    CHECK(files ==
          std::vector<std::string>{"flock-anycast", "lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2"});

    auto version = run_process({"chroot", root.path(), "/flock-anycast", "version"});
    INFO(version.err);
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("flock-anycast ", 0) == 0);

    // The plugin's own entry point, as the runtime execs it on the node.
    auto cni = run_process({"chroot", root.path(), "/flock-anycast"},
                           {.env = {{{"CNI_COMMAND", "VERSION"}}}, .stdin_text = "{}"});
    INFO(cni.err);
    CHECK(cni.exit_code == 0);
    CHECK(cni.out.find("\"supportedVersions\"") != std::string::npos);
}
