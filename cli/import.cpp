#include <cstdio>

#include "cli/commands.hpp"

namespace kprof::cli {

// Placeholder until the command lands.
int cmd_import(int, char**) {
    std::fprintf(stderr, "kprof import: not implemented yet\n");
    return 1;
}

}  // namespace kprof::cli
