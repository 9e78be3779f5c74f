#include <cstdio>

#include "cli/commands.hpp"

namespace kprof::cli {

// Placeholder until the command lands.
int cmd_record(int, char**) {
    std::fprintf(stderr, "kprof record: not implemented yet\n");
    return 1;
}

}  // namespace kprof::cli
