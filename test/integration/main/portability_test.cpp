// The executable install-cni.sh copies to the node must run there with nothing but glibc
// installed (packaging/README.md): its NEEDED list is glibc's and libmnl's, its RUNPATH points
// the loader at the libmnl.so.0 install-cni.sh puts in flock-anycast.d/ beside it, no symbol
// asks for a glibc newer than the oldest we support (2.36, Debian 12's), and it runs in a root
// that holds only glibc's two files and that libmnl. Sanitized builds need their runtimes and
// are not what is shipped: their NEEDED lists and the chroot run are skipped. A whole-static
// build (static_link=auto where libmnl.a exists, FLOCK_STATIC_EXECUTABLE) needs nothing at all.
#include "test/support/process.hpp"
#include "test/support/sanitized.hpp"
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

// The values of the dynamic section's entries of one kind ("Library runpath", "Library rpath").
std::vector<std::string> dynamic_strings(const std::string& kind) {
    const std::string dynamic = sh("readelf -d " + flock_binary());
    std::vector<std::string> values;
    const std::regex entry(kind + R"(: \[([^\]]*)\])");
    for (std::sregex_iterator it(dynamic.begin(), dynamic.end(), entry), end; it != end; ++it) {
        values.push_back((*it)[1]);
    }
    return values;
}

// Sanitized builds, and static_link=off, which links the shared libraries: not what is shipped.
bool not_as_shipped() { return FLOCK_SHARED_LIBRARIES || anycast::test::sanitized_build(); }

// The file a library name resolves to on this host, as the dynamic loader finds it.
fs::path host_library(const std::string& name) {
    for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"}) {
        if (fs::exists(fs::path(dir) / name)) return fs::canonical(fs::path(dir) / name);
    }
    FAIL("no " << name << " on this host");
    return {};
}

// Runs argv chrooted to root with /proc mounted there, as on a node: the loader reads
// /proc/self/exe to expand $ORIGIN, and drops a RUNPATH entry it cannot expand. The mount is in
// a mount namespace of the child's own, gone when it exits.
ProcessResult run_in_root(const fs::path& root, const std::vector<std::string>& argv,
                          const ProcessOptions& options = {}) {
    std::vector<std::string> command{
        "unshare", "--mount", "sh", "-c", R"(mount -t proc proc "$0/proc" && exec chroot "$0" "$@")", root.string()};
    command.insert(command.end(), argv.begin(), argv.end());
    return run_process(command, options);
}

}  // namespace

TEST_CASE("the executable needs glibc and libmnl only, and looks for libmnl beside itself first", "[cli]") {
    if (FLOCK_STATIC_EXECUTABLE) {
        CHECK(needed_libraries().empty());
        CHECK(dynamic_strings("Library runpath").empty());
        return;
    }
    // $ORIGIN/flock-anycast.d: install-cni.sh copies the image's libmnl.so.0 to
    // /opt/cni/bin/flock-anycast.d/ (examples/k8s/configmap.yaml). A RUNPATH, not an RPATH,
    // so LD_LIBRARY_PATH still overrides it; the system's directories are searched after it.
    CHECK(dynamic_strings("Library runpath") == std::vector<std::string>{"$ORIGIN/flock-anycast.d"});
    CHECK(dynamic_strings("Library rpath").empty());
    if (!not_as_shipped()) {
        std::vector<std::string> needed = needed_libraries();
        std::sort(needed.begin(), needed.end());
        CHECK(needed == std::vector<std::string>{"ld-linux-x86-64.so.2", "libc.so.6", "libmnl.so.0"});
    }
}

TEST_CASE("the executable asks for no glibc symbol version newer than 2.36", "[cli]") {
    if (FLOCK_STATIC_EXECUTABLE) {
        CHECK(sh("readelf -V --wide " + flock_binary()).find("GLIBC_") == std::string::npos);
        return;
    }
    const std::string versions = sh("readelf -V --wide " + flock_binary());
    INFO(versions);
    const std::regex glibc(R"(GLIBC_2\.([0-9]+))");
    int newest = 0;
    for (std::sregex_iterator it(versions.begin(), versions.end(), glibc), end; it != end; ++it) {
        newest = std::max(newest, std::stoi((*it)[1]));
    }
    CHECK(newest > 0);
    CHECK(newest <= 36);
    if (!not_as_shipped()) {
        // libstdc++ and libgcc_s are linked in: no GLIBCXX_/CXXABI_/GCC_ versions to satisfy.
        CHECK(versions.find("GLIBCXX_") == std::string::npos);
        CHECK(versions.find("CXXABI_") == std::string::npos);
        CHECK(versions.find("GCC_") == std::string::npos);
    }
}

TEST_CASE("the executable runs in a root holding nothing but glibc and its own libmnl", "[cli]") {
    if (not_as_shipped()) {
        WARN("sanitized or static_link=off build: it needs more shared libraries, and is not what is shipped");
        return;
    }
    TempDir root("portability");
    const fs::path dir(root.path());
    // A node as install-cni.sh leaves it: the plugin in /opt/cni/bin, Debian's libmnl.so.0 in
    // flock-anycast.d/ beside it; the loader at the path the ELF header names and libc where
    // Debian's loader looks first. No ld.so.cache, no libmnl in the system's directories, no
    // Boost, OpenSSL, yaml-cpp, fmt or libstdc++.
    if (FLOCK_STATIC_EXECUTABLE) {
        // Static: the plugin alone, no loader, no libc.
        fs::create_directories(dir / "opt/cni/bin");
        fs::create_directories(dir / "proc");
        fs::copy_file(flock_binary(), dir / "opt/cni/bin/flock-anycast");
        auto alone = run_in_root(dir, {"/opt/cni/bin/flock-anycast"},
                                 {.env = {{{"CNI_COMMAND", "VERSION"}}}, .stdin_text = "{}"});
        INFO(alone.err);
        CHECK(alone.exit_code == 0);
        CHECK(alone.out.find("\"supportedVersions\"") != std::string::npos);
        return;
    }
    fs::create_directories(dir / "lib64");
    fs::create_directories(dir / "lib/x86_64-linux-gnu");
    fs::create_directories(dir / "opt/cni/bin/flock-anycast.d");
    fs::create_directories(dir / "proc");
    fs::copy_file(host_library("ld-linux-x86-64.so.2"), dir / "lib64/ld-linux-x86-64.so.2");
    fs::copy_file(host_library("libc.so.6"), dir / "lib/x86_64-linux-gnu/libc.so.6");
    fs::copy_file(host_library("libmnl.so.0"), dir / "opt/cni/bin/flock-anycast.d/libmnl.so.0");
    fs::copy_file(flock_binary(), dir / "opt/cni/bin/flock-anycast");
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
    }
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<std::string>{"lib/x86_64-linux-gnu/libc.so.6", "lib64/ld-linux-x86-64.so.2",
                                            "opt/cni/bin/flock-anycast", "opt/cni/bin/flock-anycast.d/libmnl.so.0"});

    auto version = run_in_root(dir, {"/opt/cni/bin/flock-anycast", "version"});
    INFO(version.err);
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("flock-anycast ", 0) == 0);

    // The plugin's own entry point, as the runtime execs it on the node.
    auto cni =
        run_in_root(dir, {"/opt/cni/bin/flock-anycast"}, {.env = {{{"CNI_COMMAND", "VERSION"}}}, .stdin_text = "{}"});
    INFO(cni.err);
    CHECK(cni.exit_code == 0);
    CHECK(cni.out.find("\"supportedVersions\"") != std::string::npos);

    // Without flock-anycast.d/libmnl.so.0 nothing else provides it: the runs above found it
    // through the RUNPATH.
    fs::remove(dir / "opt/cni/bin/flock-anycast.d/libmnl.so.0");
    auto without = run_in_root(dir, {"/opt/cni/bin/flock-anycast", "version"});
    CHECK(without.exit_code != 0);
    CHECK(without.err.find("libmnl.so.0") != std::string::npos);
}
