// A child process running in the background for the length of a test: serve, BIRD, `ip
// monitor`. For a command that runs to completion and whose output is checked, see process.hpp.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace anycast::test {

// Spawned from `argv` (PATH searched), stdin /dev/null, stdout and stderr appended to
// `log_path`. The destructor stops it (SIGTERM, then SIGKILL) and reaps it.
class BackgroundProcess {
public:
    BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
    ~BackgroundProcess();
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Sends `signal` and reaps the child; later calls do nothing.
    void stop(int signal);
    bool running() const { return pid_ > 0; }
    // False once the child has exited (it is then reaped).
    bool alive();

private:
    pid_t pid_ = -1;
};

}  // namespace anycast::test
