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
};

struct ResolveOptions {
    std::string kallsyms_path;  // --kallsyms: override the trace's kernel snapshot
    std::string symfs;          // --symfs: look up user dsos under this root when the trace
                                // has no symbols for them
    bool inline_frames = true;  // --no-inline turns off inlined frames
};

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
