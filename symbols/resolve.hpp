// Turns instruction pointers of a trace's stacks into functions, using only the tables
// the trace carries (kernel symbol snapshot, dsos and their hit symbols, mappings), so
// analysis never needs /proc or the original binaries.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trace/profile.hpp"

namespace kprof {

struct Location {
    std::string function;  // "tcp_sendmsg", "[unknown]", "[bpf]" ...
    std::string module;    // "[kernel.kallsyms]", "[e1000]", "/usr/lib/.../libc.so.6"
    uint64_t ip = 0;
    uint64_t offset = 0;  // ip - function start (0 when unknown)
    bool kernel = false;
    bool resolved = false;
    bool inlined = false;  // an inlined frame produced from DWARF for the same ip
    std::string file;      // source position when known
    uint32_t line = 0;
    // User frames inside a mapping: its Dso::path (also when the symbol is unknown) and the
    // ip in that dso's file offset space (what `perf script` prints); "" and 0 otherwise.
    std::string dso;
    uint64_t dso_offset = 0;
};

struct ResolveOptions {
    std::string kallsyms_path;  // --kallsyms: override the trace's kernel snapshot
    std::string symfs;          // --symfs: look up user dsos under this root when the trace
                                // has no symbols for them
    bool inline_frames = true;  // --no-inline turns off inlined frames
};

// How a user ip becomes a symbol (the convention symbols/symbolize.cpp fills DsoSymbol to):
//  1. Mapping: among profile.mappings with the stack's (pid, generation), the one whose
//     [start, start + len) holds the ip; where several overlap (a range mapped again), the
//     one mapped last (greatest time_ns, then the later entry) wins, as in the process.
//  2. File offset: rel = ip - mapping.start + mapping.pgoff. DsoSymbol::start and ::size are
//     in this FILE OFFSET space, not in ELF virtual addresses: the symbolizer converts an
//     ELF symbol value v found in the PT_LOAD segment ph to
//     v - ph.p_vaddr + ph.p_offset (for the usual executable segment, where
//     p_vaddr - p_offset is the same for the whole segment, that is one subtraction).
//  3. Symbol: the DsoSymbol with the greatest start <= rel, if rel < start + size (size 0:
//     the symbolizer did not know the size; then up to the next symbol).
// Unresolved user frames: function "[unknown]", module the dso's basename, or "[unknown]"
// without a mapping. Resolved: module is Dso::path.
//
// Kernel ips: the greatest kallsyms entry <= ip (ties: a function over a section marker,
// global over local, non-weak, fewer leading underscores, longest name, as perf does). A
// function ends at the next symbol, except that a symbol that is data, absolute, or a
// section marker (_etext, _einittext, __start_*, __stop_*, __*_text_end, ...) covers no
// code, and the last symbol of a module (or of the table) is assumed to end within two
// pages of where it starts, since kallsyms carries no sizes. Outside any function the
// result is the pseudo-symbol "[unknown kernel]", or "[bpf]" (module "[bpf]") past the end
// of a BPF JIT image. "[unknown kernel]" has the module "[kernel.kallsyms]" inside the
// kernel image (_text or _stext to _edata or _etext, perf's kernel map) and "[unknown]"
// outside it, as perf has no map there. Modules are "[name]", vmlinux
// "[kernel.kallsyms]". An all-zero (kptr_restrict) table resolves nothing.
class FrameResolver {
  public:
    explicit FrameResolver(const Profile& profile, const ResolveOptions& options = {});
    ~FrameResolver();
    FrameResolver(FrameResolver&&) noexcept;

    // Appends the frames of stack position `index` (0 = leaf): inlined frames first
    // (innermost first), then the containing function. Always appends at least one.
    void resolve(const StackView& stack, size_t index, std::vector<Location>& out) const;
    Location resolve_kernel(uint64_t ip) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace kprof
