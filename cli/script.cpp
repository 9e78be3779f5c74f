#include <cstdio>

#include "cli/commands.hpp"

namespace kprof::cli {

// Placeholder until the command lands.
int cmd_script(int, char**) {
    std::fprintf(stderr, "kprof script: not implemented yet\n");
    return 1;
}

}  // namespace kprof::cli
