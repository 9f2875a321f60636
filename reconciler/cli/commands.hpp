// The reconciler's subcommands (docs/architecture.md section 2): serve, plan, status, cleanup. main
// dispatches here; each parses its own flags and returns the process exit code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace anycast::reconciler {

bool is_reconciler_command(std::string_view command);

// `args` are the words after the command. Exit codes: 0 success, 1 failure, 2 bad usage;
// status returns 1 when the kernel is out of sync.
int run_command(std::string_view command, const std::vector<std::string>& args);

// The lines main's help text shows for these commands.
extern const std::string_view k_commands_usage;

}  // namespace anycast::reconciler
