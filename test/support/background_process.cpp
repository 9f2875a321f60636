#include "test/support/background_process.hpp"

#include "test/support/wait_until.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace anycast::test {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
}

BackgroundProcess::~BackgroundProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    // Give it a moment to shut down cleanly (BIRD removes its socket), then insist.
    const bool exited = wait_until(
        [&] {
            int status = 0;
            return ::waitpid(pid_, &status, WNOHANG) == pid_;
        },
        std::chrono::seconds(2));
    if (!exited) stop(SIGKILL);
}

void BackgroundProcess::stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    pid_ = -1;
}

bool BackgroundProcess::alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
}

}  // namespace anycast::test
