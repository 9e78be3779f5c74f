// DWARF unwinding of user stacks without frame pointers: from the registers and the copy
// of the user stack that perf takes with each sample (PERF_SAMPLE_REGS_USER and
// PERF_SAMPLE_STACK_USER, `record --call-graph dwarf`), libdwfl walks the call frame
// information (.eh_frame, else .debug_frame) of the binaries the process maps, as perf
// report does for `perf record --call-graph dwarf`. Where a pc has no CFI, libdwfl falls
// back to the frame pointer chain.
//
// One libdwfl session per address space (pid, exec generation) lives as long as the
// process: each binary is opened once per process, when the first frame inside it is
// unwound, and its CFI is parsed once, not once per sample.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kprof {

// perf's x86_64 user register numbers (arch/x86/include/uapi/asm/perf_regs.h): the
// sample_regs_user bits of AX, BX, CX, DX, SI, DI, BP, SP, IP (0-8) and R8-R15 (16-23),
// the 17 registers DWARF CFI refers to. The segment registers are refused by the kernel.
inline constexpr uint64_t kUnwindRegsMask = 0x1ffULL | (0xffULL << 16);
// PERF_SAMPLE_REGS_ABI_64: the sampled task runs 64-bit code (the only kind unwound).
inline constexpr uint64_t kRegsAbi64 = 2;
// perf's default and largest user stack copy (--call-graph dwarf[,SIZE]): the copy must
// fit a perf record, whose size is 16 bits.
inline constexpr uint32_t kDefaultUserStackCopy = 8192;
inline constexpr uint32_t kMaxUserStackCopy = 65528;

// The registers in DWARF numbering: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15, rip.
struct UserRegisters {
    std::array<uint64_t, 17> dwarf{};
    uint64_t sp() const { return dwarf[7]; }
    uint64_t ip() const { return dwarf[16]; }
};

// Turns a sample's REGS_USER words (one per bit of `mask`, lowest bit first, as the
// kernel writes them) into DWARF order. False when the mask lacks one of the 17.
bool user_registers_from_perf(uint64_t mask, std::span<const uint64_t> words, UserRegisters& out);

// Why an unwind stopped.
enum class UnwindEnd : uint8_t {
    kOutermost,  // the outermost frame (_start, a thread's start routine): the whole stack
    kStackCopy,  // a caller's frame lies beyond the copied stack: a larger SIZE reaches it
    kNoInfo,     // a pc in no mapped binary, or without CFI, and no frame pointer helped
    kMaxDepth,   // the frame limit (--max-stack) cut it
    kError,      // corrupt CFI or stack contents (a frame that did not move up the stack)
};
inline constexpr size_t kUnwindEnds = 5;
const char* unwind_end_name(UnwindEnd end);

struct UnwindStats {
    uint64_t stacks = 0;                       // unwinds attempted
    uint64_t frames = 0;                       // frames they produced
    std::array<uint64_t, kUnwindEnds> ends{};  // by UnwindEnd
    uint64_t binaries = 0;                     // binaries opened (once per process each)
    uint64_t unreadable = 0;                   // binaries that could not be opened
    uint64_t count(UnwindEnd end) const { return ends[static_cast<size_t>(end)]; }
};

// An executable mapping of a file (or "[vdso]") in a process's address space.
struct UnwindMapping {
    uint64_t start = 0;
    uint64_t len = 0;
    uint64_t pgoff = 0;
    uint64_t time_ns = 0;  // when it was mapped
    std::string path;      // as the kernel reported it (" (deleted)" included)
};

struct UnwindOptions {
    std::string symfs;  // root prefix for binary paths ("" = /), as for symbolization
};

class UserUnwinder {
  public:
    explicit UserUnwinder(UnwindOptions options = {});
    ~UserUnwinder();
    UserUnwinder(const UserUnwinder&) = delete;
    UserUnwinder& operator=(const UserUnwinder&) = delete;

    // Adds a mapping to address space `space` (a key the caller gives each process image)
    // of process `pid` (whose /proc/PID/map_files reach a binary deleted since). Where
    // mappings overlap, the latest mapped at a sample's time wins.
    void add_mapping(uint64_t space, uint32_t pid, const UnwindMapping& mapping);
    // Forgets a space (its process exited or exec'd) and closes its binaries.
    void drop(uint64_t space);

    // Unwinds one sample of `space`: appends its user frames to `ips`, leaf first (the
    // sampled pc, then return addresses), at most `max_frames`. `stack` is the copy taken
    // at regs.sp() upwards; `time_ns` selects the mappings in force (later ones ignored).
    UnwindEnd unwind(uint64_t space, const UserRegisters& regs, std::span<const uint8_t> stack,
                     uint32_t max_frames, std::vector<uint64_t>& ips,
                     uint64_t time_ns = UINT64_MAX);

    const UnwindStats& stats() const;
    size_t live_spaces() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One line for people: "12345 user stacks unwound (DWARF), 9.8 frames on average; 98.1%
// reached the outermost frame, 1.2% were cut by the 8192-byte stack copy (...)".
std::string describe_unwinding(const UnwindStats& stats, uint32_t stack_copy_size);

}  // namespace kprof
