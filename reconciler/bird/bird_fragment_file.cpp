#include "reconciler/bird/bird_fragment_file.hpp"

#include "common/atomic_file.hpp"

#include <fstream>
#include <sstream>

namespace anycast::reconciler {

namespace {

bool holds_text(const std::string& path, const std::string& text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream current;
    current << in.rdbuf();
    return current.str() == text;
}

}  // namespace

bool write_file_if_changed(const std::string& path, const std::string& text) {
    if (holds_text(path, text)) return false;

    common::AtomicWriteOptions write;
    write.mode = 0644;
    common::write_file_atomically(path, text, write);
    return true;
}

}  // namespace anycast::reconciler
