#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "trace/error.hpp"

namespace kprof::cli {
namespace {

constexpr std::array kCommands = {
    Command{"record", cmd_record, "record kernel and user call stacks of a workload"},
    Command{"info", cmd_info, "show what a trace holds"},
    Command{"script", cmd_script, "print every sample with symbolized frames"},
    Command{"report", cmd_report, "flat profile, call graph, trees, flame graphs"},
    Command{"tui", cmd_tui, "browse the call graph in the terminal"},
    Command{"import", cmd_import, "convert perf.data, perf script or folded stacks"},
    Command{"workload", cmd_workload, "run one built-in workload alone"},
};

void usage(FILE* out) {
    std::fprintf(out, "usage: kprof <command> [options]\n\ncommands:\n");
    for (const Command& c : kCommands)
        std::fprintf(out, "  %-10s %.*s\n", std::string(c.name).c_str(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    std::fprintf(out, "\nSee 'kprof <command> --help' and man kprof-<command>.\n");
}

}  // namespace

std::span<const Command> commands() {
    return kCommands;
}

int run_main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "-h" || name == "--help" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version" || name == "version") {
        std::printf("kprof %s\n", KPROF_VERSION);
        return 0;
    }
    for (const Command& c : kCommands) {
        if (c.name != name) continue;
        try {
            return c.run(argc - 1, argv + 1);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "kprof %s: %s\n", name.c_str(), e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "kprof: '%s' is not a kprof command\n", name.c_str());
    usage(stderr);
    return 2;
}

}  // namespace kprof::cli
