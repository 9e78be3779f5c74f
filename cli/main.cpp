#include "cli/commands.hpp"

int main(int argc, char** argv) {
    return kprof::cli::run_main(argc, argv);
}
