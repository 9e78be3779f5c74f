// One function per command, each in its own file (cli/record.cpp, cli/report.cpp, ...),
// dispatched from the table in cli/main.cpp. argv[0] is the command name.
#pragma once

#include <span>
#include <string_view>

namespace kprof::cli {

int cmd_record(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_script(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_tui(int argc, char** argv);
int cmd_workload(int argc, char** argv);
int cmd_import(int argc, char** argv);

struct Command {
    std::string_view name;
    int (*run)(int argc, char** argv);
    std::string_view summary;
};

std::span<const Command> commands();
// Runs `kprof ARGS...` (argv[0] is "kprof"); returns the exit status. Errors are printed
// as "kprof: ..." and give a non-zero status, never an exception.
int run_main(int argc, char** argv);

}  // namespace kprof::cli
