// The in-process fixture of the unwinder's unit tests, dlopen()ed by them: a call chain
// unwind_lib_outer -> unwind_lib_middle -> unwind_lib_leaf built with -O2
// -fomit-frame-pointer, whose leaf takes what perf takes with a sample of it: the
// registers (in DWARF order) and a copy of the stack from the stack pointer up. The
// unwinder then has to find the callers from .eh_frame alone.
#include <stdint.h>

struct unwind_lib_capture {
    uint64_t regs[17];   // rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15, rip
    uint64_t stack_end;  // in: the end of the stack mapping ([stack] in /proc/self/maps)
    uint64_t size;       // in: bytes to copy at most; out: bytes copied
    uint8_t* stack;      // in: where to copy them
};

// Stores the registers as they are when it returns to its caller: rip = the return
// address, rsp = the caller's stack pointer; the other registers are untouched by it.
void unwind_lib_registers(uint64_t* regs);
__asm__(
    ".text\n"
    ".globl unwind_lib_registers\n"
    ".type unwind_lib_registers, @function\n"
    "unwind_lib_registers:\n"
    ".cfi_startproc\n"
    "    movq %rax, 0(%rdi)\n"
    "    movq %rdx, 8(%rdi)\n"
    "    movq %rcx, 16(%rdi)\n"
    "    movq %rbx, 24(%rdi)\n"
    "    movq %rsi, 32(%rdi)\n"
    "    movq %rdi, 40(%rdi)\n"
    "    movq %rbp, 48(%rdi)\n"
    "    leaq 8(%rsp), %rax\n"
    "    movq %rax, 56(%rdi)\n"
    "    movq %r8, 64(%rdi)\n"
    "    movq %r9, 72(%rdi)\n"
    "    movq %r10, 80(%rdi)\n"
    "    movq %r11, 88(%rdi)\n"
    "    movq %r12, 96(%rdi)\n"
    "    movq %r13, 104(%rdi)\n"
    "    movq %r14, 112(%rdi)\n"
    "    movq %r15, 120(%rdi)\n"
    "    movq (%rsp), %rax\n"
    "    movq %rax, 128(%rdi)\n"
    "    movq 0(%rdi), %rax\n"
    "    ret\n"
    ".cfi_endproc\n"
    ".size unwind_lib_registers, .-unwind_lib_registers\n");

volatile uint64_t unwind_lib_sink;

__attribute__((noinline)) uint64_t unwind_lib_leaf(struct unwind_lib_capture* c, uint64_t n) {
    uint64_t x = n * 7;
    unwind_lib_registers(c->regs);
    const uint64_t sp = c->regs[7];
    uint64_t size = c->stack_end - sp;
    if (size > c->size) size = c->size;
    // Everything at and above sp belongs to the callers. Copied word by word, not by
    // memcpy: under AddressSanitizer the callers' frames hold poisoned redzones, which the
    // memcpy interceptor would report (this library itself is never instrumented).
    const volatile uint64_t* from = (const volatile uint64_t*)sp;
    uint64_t* to = (uint64_t*)c->stack;
    size &= ~(uint64_t)7;
    for (uint64_t i = 0; i < size / 8; ++i) to[i] = from[i];
    c->size = size;
    unwind_lib_sink = x;
    return x + 1;
}

__attribute__((noinline)) uint64_t unwind_lib_middle(struct unwind_lib_capture* c, uint64_t n) {
    const uint64_t r = unwind_lib_leaf(c, n + 1) * 3;
    unwind_lib_sink = r;
    return r + 1;
}

__attribute__((noinline)) uint64_t unwind_lib_outer(struct unwind_lib_capture* c, uint64_t n) {
    const uint64_t r = unwind_lib_middle(c, n + 2) ^ 5;
    unwind_lib_sink = r;
    return r + 2;
}
