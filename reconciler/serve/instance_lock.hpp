// One serve per node: two would fight over the same routes, each deleting what the other
// installed as stale. serve holds an flock on <stateDir>/serve.lock for its whole life; the
// file holds the holder's pid so that a second serve can name it. The kernel drops the lock
// when the holder dies, however it dies.
#pragma once

#include "common/unique_fd.hpp"

#include <stdexcept>
#include <string>

namespace anycast::reconciler {

class InstanceLockError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class InstanceLock {
public:
    // Makes the state directory when missing, or refuses one the record store would not
    // trust (StoreError). Throws InstanceLockError naming the lock file and the holder's pid
    // when another process holds it, SystemError when the file cannot be opened or locked.
    explicit InstanceLock(const std::string& state_dir);

    static std::string path_in(const std::string& state_dir) { return state_dir + "/serve.lock"; }

private:
    common::UniqueFd fd_;
};

}  // namespace anycast::reconciler
