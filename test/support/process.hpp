// Runs a child process with a given argv, environment and stdin, capturing stdout and stderr.
// Tests use it to act as the runtime (exec the plugin) and to drive `ip`, `bird`, `birdc`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace anycast::test {

struct ProcessResult {
    int exit_code = -1;  // 128+signal when killed by a signal
    std::string out;
    std::string err;
};

struct ProcessOptions {
    // Replaces the environment when set; otherwise the child inherits ours.
    std::optional<std::map<std::string, std::string>> env;
    std::string stdin_text;
    double timeout_seconds = 60;  // then SIGKILL (the crash tests use it to kill at a chosen moment)
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Runs `sh -c command`; throws std::runtime_error with the output when it exits non-zero.
std::string sh(const std::string& command);
// Runs `sh -c command` and returns the result without judging it.
ProcessResult sh_result(const std::string& command);

// The directory holding the built flock-anycast executable (FLOCK_BINARY at build time).
std::string flock_binary();

}  // namespace anycast::test
