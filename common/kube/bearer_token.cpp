#include "common/kube/bearer_token.hpp"

#include "common/kube/kube_config.hpp"
#include "common/log.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace anycast::common::kube {

namespace {

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

}  // namespace

BearerToken BearerToken::fixed(std::string token) {
    BearerToken t;
    t.token_ = trim(std::move(token));
    return t;
}

BearerToken BearerToken::from_file(std::string path) {
    BearerToken t;
    t.path_ = std::move(path);
    t.value();  // fail at load time when the file is unreadable
    return t;
}

const std::string& BearerToken::value() {
    if (path_.empty()) return token_;
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        throw KubeConfigError("token file " + path_ + ": " + std::strerror(errno));
    }
    if (st.st_ino == inode_ && st.st_dev == device_ && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
        st.st_mtim.tv_nsec == mtime_.tv_nsec) {
        return token_;
    }
    std::ifstream in(path_);
    if (!in) throw KubeConfigError("token file " + path_ + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    const bool rotated = size_ >= 0;
    token_ = trim(text.str());
    inode_ = st.st_ino;
    device_ = st.st_dev;
    size_ = st.st_size;
    mtime_ = st.st_mtim;
    // The token itself never goes to a log.
    if (rotated) log::info("bearer token file changed, re-read", {log::kv("file", path_)});
    return token_;
}

}  // namespace anycast::common::kube
