// A container image without a registry: an OCI image layout archive (oci-layout, index.json,
// blobs/sha256/...) with one uncompressed layer holding a static busybox, the form `ctr image
// import` reads (../shared/lab-notes.md, "A real container runtime without a registry").
#pragma once

#include <string>

namespace anycast::test {

// A static busybox: Debian's busybox-static installs it here.
inline constexpr const char* k_static_busybox = "/bin/busybox";

// Writes the archive to `archive`, working in `work_dir` (created; left for the caller's
// TempDir to remove). The root file system: /bin/busybox (a copy of `busybox`, which must be
// statically linked: the image has no libc) with sh, sleep and ip linked to it, and empty
// /dev, /etc, /proc, /sys, /tmp. Uses only tar and sha256sum (coreutils). Throws
// std::runtime_error naming the step that failed.
void write_busybox_oci_archive(const std::string& work_dir, const std::string& archive,
                               const std::string& busybox = k_static_busybox);

}  // namespace anycast::test
