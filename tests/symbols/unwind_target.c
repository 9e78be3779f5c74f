// The test program of the DWARF unwinding tests: a busy call chain main -> unwind_outer ->
// unwind_middle -> unwind_leaf, built with -O2 -fomit-frame-pointer and without -g, as
// distributions build their binaries: only .eh_frame says how to find each caller, and
// the frame pointer chain the kernel walks stops at the first frame.
//
//   unwind_target [SECONDS]   spin in unwind_leaf for SECONDS (default 1) of CPU time
#include <stdlib.h>
#include <time.h>

volatile unsigned long unwind_sink;

__attribute__((noinline)) unsigned long unwind_leaf(unsigned long n) {
    unsigned long x = n;
    for (unsigned long i = 0; i < 20000; ++i) x = x * 6364136223846793005ULL + i;
    return x;
}

// Each level stores its result before returning, so no call is a tail call.
__attribute__((noinline)) unsigned long unwind_middle(unsigned long n) {
    const unsigned long r = unwind_leaf(n) ^ n;
    unwind_sink = r;
    return r + 1;
}

__attribute__((noinline)) unsigned long unwind_outer(unsigned long n) {
    const unsigned long r = unwind_middle(n) * 3;
    unwind_sink = r;
    return r + 2;
}

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? atof(argv[1]) : 1;
    unsigned long n = 0;
    struct timespec t;
    do {
        unwind_sink = unwind_outer(n++);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while (t.tv_sec + t.tv_nsec / 1e9 < seconds);
    return 0;
}
