/* A process whose name is a terminal escape sequence, as any user can set it: the live
 * part of tests/hostile. Renames itself, then burns CPU for about 300 ms so that
 * cpu-clock samples it under that name. */
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t spin(uint64_t until) {
    volatile uint64_t x = 0;
    while (now_ns() < until)
        for (int i = 0; i < 10000; ++i) x += (uint64_t)i;
    return x;
}

int main(void) {
    if (prctl(PR_SET_NAME, "\x1b[31mevil\x07", 0, 0, 0) != 0) return 3;
    spin(now_ns() + 300000000u);
    return 0;
}
