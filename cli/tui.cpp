#include <cstdio>

#include "cli/commands.hpp"

namespace kprof::cli {

// Placeholder until the command lands.
int cmd_tui(int, char**) {
    std::fprintf(stderr, "kprof tui: not implemented yet\n");
    return 1;
}

}  // namespace kprof::cli
