// Replacing a file so that a reader (or a crash) sees the old content or the new, never half
// of it: the text goes to a temp file on the same filesystem, is fsync'd, and is renamed over
// the target. The record store (common/store/) and the BIRD include (reconciler/bird/) use it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace anycast::common {

struct AtomicWriteOptions {
    mode_t mode = 0600;
    // Where the text is staged: empty → a unique "<target>.tmp.XXXXXX" beside the target.
    // A given path is created or truncated (O_NOFOLLOW); it must be on the target's filesystem.
    std::string temp_path;
    // fsync the target's directory after the rename, so the rename itself survives a crash.
    bool sync_directory = false;
    // Called between the temp file's fsync and the rename (crash tests); may be null.
    void (*before_rename)() = nullptr;
};

// Throws SystemError naming the step and path; the temp file is removed on failure and the
// target is then unchanged.
void write_file_atomically(const std::string& target, std::string_view text, const AtomicWriteOptions& options = {});

// fsync of a directory: makes the creations, renames and removals in it durable.
void fsync_directory(const std::string& path);

}  // namespace anycast::common
