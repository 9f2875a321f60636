// flock-anycast: one executable. With CNI_COMMAND set it is a CNI plugin; otherwise the first
// argument names a subcommand. This file only dispatches.
#include "cni/spec/error_json.hpp"
#include "cni/plugin.hpp"
#include "cni/spec/versions.hpp"
#include "cni/spec/cni_error.hpp"
#include "reconciler/cli/commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view k_usage =
    R"(flock-anycast — anycast addresses for Kubernetes pods, announced over BGP while the pods are ready

Usage:
{}  flock-anycast version        print the version
  flock-anycast help           this text

As a CNI plugin (CNI_COMMAND set in the environment) it implements CNI spec 1.1:
ADD, DEL, CHECK, GC, STATUS and VERSION (see docs/cni.md).
)";

// The network config the runtime writes to stdin; false (errno set) when reading failed.
bool read_stdin(std::string& text) {
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n == 0) return true;
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

int run_cni() {
    std::string input;
    std::string output;
    int code = 1;
    if (read_stdin(input)) {
        code = anycast::cni::run_plugin(anycast::cni::process_environment(), input, output);
    } else {
        // No content to decode: the code empty stdin gets too. No config, so no version of its own.
        output = anycast::cni::error_json(anycast::cni::k_current_version, anycast::cni::cni_code::decoding_failure,
                                          "stdin: cannot read the network configuration", std::strerror(errno));
    }
    // DEL, CHECK, GC and STATUS print nothing on success (CNI spec 1.1).
    if (!output.empty()) {
        output += '\n';
        std::fwrite(output.data(), 1, output.size(), stdout);
        std::fflush(stdout);
    }
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    if (std::getenv("CNI_COMMAND") != nullptr) {
        const int code = run_cni();
        // Runs once per pod: _Exit does not run the static destructors (Asio's services,
        // OpenSSL's and Boost.JSON's globals), whose code is spread over the binary and costs
        // ~10 page faults to reach, ~0.3 ms an exec here. Everything written is flushed;
        // nothing else is left to do.
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(code);
    }

    const std::string_view command = argc > 1 ? argv[1] : "help";
    if (command == "version" || command == "--version") {
        fmt::print("flock-anycast {}\n", FLOCK_VERSION);
        return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
        fmt::print(k_usage, anycast::reconciler::k_commands_usage);
        return 0;
    }
    if (anycast::reconciler::is_reconciler_command(command)) {
        return anycast::reconciler::run_command(command, std::vector<std::string>(argv + 2, argv + argc));
    }
    fmt::print(stderr, "flock-anycast: unknown command \"{}\"; run \"flock-anycast help\"\n", command);
    return 2;
}
