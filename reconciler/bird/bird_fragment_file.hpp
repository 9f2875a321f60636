// Writes the rendered BIRD include so BIRD never reads a half-written file (common/atomic_file.hpp: temp file in the
// same directory, fsync, rename over the old one. No directory fsync: it runs on serve's
// event loop and cost about 3 ms per change on the lab's disk (bench/bird_withdraw_bench),
// while a rename lost in a crash is harmless: serve rewrites and reloads the include at
// every start (BirdPublisher's first publish).
#pragma once

#include <string>

namespace anycast::reconciler {

// Replaces `path` with `text` unless it already holds exactly that text. Returns true when it
// wrote. The file is 0644: Debian's BIRD runs as user bird and must read it. Throws
// common::SystemError naming the step and path on failure (the old file is then unchanged).
bool write_file_if_changed(const std::string& path, const std::string& text);

}  // namespace anycast::reconciler
