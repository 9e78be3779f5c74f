// Record-time symbolization of user-space frames with elfutils: while the binaries still
// exist, resolve every user ip of the stack table through its mapping and store the hit
// symbols (and build-ids) in the profile's dsos, so the trace is self-contained.
#pragma once

#include <string>

#include "trace/profile.hpp"

namespace kprof {

struct SymbolizeOptions {
    bool debug_info = true;  // DWARF file:line and inlined frames where present
    std::string symfs;       // root prefix for binary paths ("" = /)
};

struct SymbolizeStats {
    uint64_t addresses = 0;   // unique user addresses looked up
    uint64_t resolved = 0;
    uint64_t unresolved = 0;
    uint64_t binaries = 0;    // ELF files opened
    double seconds = 0;
};

// Fills profile.dsos[*].symbols/build_id/deleted/symbolized and profile.unresolved_frames.
SymbolizeStats symbolize_profile(Profile& profile, const SymbolizeOptions& options = {});

}  // namespace kprof
