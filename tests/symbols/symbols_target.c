// The test program of tests/symbols: a known user call chain main -> outer -> middle ->
// leaf, where leaf enters the kernel itself (inline syscall instruction, so no libc frame
// sits between leaf and the kernel); middle reaches leaf through an always_inline helper,
// which DWARF lists as an inlined frame. Built with frame pointers, -O0 and noinline, as PIE
// and as a fixed-address executable.
//
//   symbols_target [N]         N getppid system calls from leaf (default 2000), and a
//                              1 us nanosleep (which starts a kernel hrtimer, so the
//                              timer:hrtimer_start tracepoint has kernel frames) every 100
//   symbols_target --addresses print "name 0xADDR" for leaf/middle/outer/main and leaf's
//                              return address (leaf_return), then wait
//                              until stdin closes (tests read /proc/PID/maps meanwhile)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// always_inline: the syscall instruction sits in leaf itself, even at -O0.
static inline __attribute__((always_inline)) long raw_syscall2(long nr, long a, long b) {
    long ret;
    register long rdi __asm__("rdi") = a;
    register long rsi __asm__("rsi") = b;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "r"(rdi), "r"(rsi) : "rcx", "r11", "memory");
    return ret;
}

static void* leaf_return;  // where leaf returns to in middle (for --addresses)

__attribute__((noinline)) long leaf(long n) {
    leaf_return = __builtin_return_address(0);
    long sum = 0;
    const struct timespec pause = {0, 1000};
    for (long i = 0; i < n; ++i) {
        sum += raw_syscall2(SYS_getppid, 0, 0);
        if (i % 100 == 0) raw_syscall2(SYS_nanosleep, (long)&pause, 0);
    }
    return sum;
}

// Inlined into middle even at -O0: DWARF describes it as an inlined subroutine.
static inline __attribute__((always_inline)) long inlined_step(long n) {
    return leaf(n) + 1;  // KPROF-INLINE-CALL
}

__attribute__((noinline)) long middle(long n) {
    return inlined_step(n) + 1;  // KPROF-MIDDLE-CALL
}

__attribute__((noinline)) long outer(long n) {
    return middle(n) + 1;
}

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "--addresses") == 0) {
        outer(0);
        printf("leaf %p\nmiddle %p\nouter %p\nmain %p\nleaf_return %p\nend\n", (void*)&leaf,
               (void*)&middle, (void*)&outer, (void*)&main, leaf_return);
        fflush(stdout);
        char buf[64];
        while (read(0, buf, sizeof buf) > 0) {
        }
        return 0;
    }
    const long n = argc > 1 ? atol(argv[1]) : 2000;
    return outer(n) > 0 ? 0 : 1;
}
