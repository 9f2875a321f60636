#include "test/support/oci_image.hpp"

#include "test/support/process.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace anycast::test {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

struct Blob {
    std::string digest;  // "sha256:<hex>"
    std::uintmax_t size = 0;
};

// Moves `file` into <layout>/blobs/sha256/<its digest>: content-addressed, as the layout wants.
Blob add_blob(const fs::path& layout, const fs::path& file) {
    const std::string sum = sh("sha256sum " + file.string());
    if (sum.size() < 64) throw std::runtime_error("sha256sum " + file.string() + ": unexpected output: " + sum);
    Blob blob{"sha256:" + sum.substr(0, 64), fs::file_size(file)};
    fs::rename(file, layout / "blobs" / "sha256" / sum.substr(0, 64));
    return blob;
}

Blob add_json_blob(const fs::path& layout, const fs::path& scratch, const json::value& document) {
    std::ofstream(scratch) << json::serialize(document);
    if (!fs::exists(scratch)) throw std::runtime_error("write " + scratch.string());
    return add_blob(layout, scratch);
}

// Debian's name for this machine's architecture is the OCI one too (amd64, arm64, ...).
std::string architecture() {
    std::string arch = sh("dpkg --print-architecture");
    while (!arch.empty() && (arch.back() == '\n' || arch.back() == ' ')) arch.pop_back();
    return arch;
}

json::object descriptor(const char* media_type, const Blob& blob) {
    return {{"mediaType", media_type}, {"digest", blob.digest}, {"size", blob.size}};
}

}  // namespace

void write_busybox_oci_archive(const std::string& work_dir, const std::string& archive, const std::string& busybox) {
    if (!fs::is_regular_file(busybox)) {
        throw std::runtime_error("OCI image: " + busybox + " is missing (Debian package busybox-static)");
    }
    const fs::path work(work_dir), rootfs = work / "rootfs", layout = work / "layout";
    for (const char* dir : {"bin", "dev", "etc", "proc", "sys", "tmp"}) fs::create_directories(rootfs / dir);
    fs::copy_file(busybox, rootfs / "bin" / "busybox");
    for (const char* applet : {"sh", "sleep", "ip"}) fs::create_symlink("busybox", rootfs / "bin" / applet);
    fs::create_directories(layout / "blobs" / "sha256");

    // Owned by root, fixed times and order: the same busybox gives the same digests.
    const fs::path layer = work / "layer.tar";
    sh("tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C " + rootfs.string() + " -cf " +
       layer.string() + " .");
    const Blob layer_blob = add_blob(layout, layer);

    const std::string arch = architecture();
    const json::object config{
        {"architecture", arch},
        {"os", "linux"},
        {"config", json::object{{"Env", json::array{"PATH=/bin"}}, {"Cmd", json::array{"/bin/sh"}}}},
        {"rootfs", json::object{{"type", "layers"}, {"diff_ids", json::array{layer_blob.digest}}}}};
    const Blob config_blob = add_json_blob(layout, work / "config.json", config);

    const json::object manifest{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config", descriptor("application/vnd.oci.image.config.v1+json", config_blob)},
        {"layers", json::array{descriptor("application/vnd.oci.image.layer.v1.tar", layer_blob)}}};
    const Blob manifest_blob = add_json_blob(layout, work / "manifest.json", manifest);

    json::object entry = descriptor("application/vnd.oci.image.manifest.v1+json", manifest_blob);
    entry["platform"] = json::object{{"architecture", arch}, {"os", "linux"}};
    std::ofstream(layout / "index.json") << json::serialize(
        json::object{{"schemaVersion", 2}, {"manifests", json::array{entry}}});
    std::ofstream(layout / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    sh("tar -C " + layout.string() + " -cf " + archive + " oci-layout index.json blobs");
}

}  // namespace anycast::test
