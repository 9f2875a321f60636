// flock-anycast: one executable. With CNI_COMMAND set it is a CNI plugin; otherwise the first
// argument names a subcommand. This file only dispatches.
#include "cni/plugin.hpp"
#include "reconciler/commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view k_usage = R"(flock-anycast — anycast addresses for Kubernetes pods, announced over BGP while the pods are ready

Usage:
{}  flock-anycast version        print the version
  flock-anycast help           this text

As a CNI plugin (CNI_COMMAND set in the environment) it implements CNI spec 1.1:
ADD, DEL, CHECK, GC, STATUS and VERSION (see docs/cni.md).
)";

int run_cni() {
    std::string input(std::istreambuf_iterator<char>(std::cin), {});
    std::string output;
    const int code = anycast::cni::run_plugin(anycast::cni::process_environment(), input, output);
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
    if (std::getenv("CNI_COMMAND") != nullptr) return run_cni();

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
