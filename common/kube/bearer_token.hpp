// A bearer token, either fixed or read from a file that is re-read whenever it changes:
// kubelet rotates projected service-account tokens by swapping a symlink, so the inode and
// mtime of the path change and the next request must use the new token.
#pragma once

#include <ctime>
#include <string>
#include <sys/types.h>

namespace anycast::common::kube {

class BearerToken {
public:
    BearerToken() = default;
    static BearerToken fixed(std::string token);
    static BearerToken from_file(std::string path);

    // The current token ("" when none). Re-reads the file when its identity or mtime changed;
    // throws KubeConfigError naming the file when it cannot be read.
    const std::string& value();
    bool empty() const { return token_.empty() && path_.empty(); }
    const std::string& path() const { return path_; }

private:
    std::string token_;
    std::string path_;
    ino_t inode_ = 0;
    dev_t device_ = 0;
    timespec mtime_{};
    off_t size_ = -1;
};

}  // namespace anycast::common::kube
