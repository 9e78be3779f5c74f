#include <cstdio>

#include "cli/commands.hpp"

namespace kprof::cli {

// Placeholder until the command lands.
int cmd_workload(int, char**) {
    std::fprintf(stderr, "kprof workload: not implemented yet\n");
    return 1;
}

}  // namespace kprof::cli
