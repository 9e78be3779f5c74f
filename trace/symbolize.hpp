// Record-time symbolization of user-space frames with elfutils: while the binaries still
// exist, resolve every user ip of the stack table through its mapping and store the hit
// symbols (and build-ids) in the profile's dsos, so the trace is self-contained.
#pragma once

#include <string>

#include "trace/profile.hpp"

namespace kprof {

struct SymbolizeOptions {
    bool debug_info = true;  // DWARF file:line and inlined frames where present
    // With debug_info: also DWARF from separate debug files (/usr/lib/debug by build-id,
    // debuglink), i.e. of system libraries. Loading those costs far more than the symbol
    // lookups; false limits DWARF to binaries that carry their own (-g builds). Symbol
    // tables are read from separate debug files either way.
    bool separate_debug_info = true;
    std::string symfs;  // root prefix for binary paths ("" = /)
    // Leave dsos that already carry symbols alone (analysis-time --symfs fills only the
    // ones recorded without symbols).
    bool only_unsymbolized = false;
};

struct SymbolizeStats {
    uint64_t addresses = 0;  // unique user addresses: (dso, offset), or unmapped (pid, ip)
    uint64_t resolved = 0;
    uint64_t unresolved = 0;
    uint64_t binaries = 0;  // ELF files opened
    double seconds = 0;
    uint64_t frames = 0;    // user frames of the stack table (unique stacks)
    uint64_t unmapped = 0;  // unique addresses outside every recorded mapping
    uint64_t deleted = 0;   // dsos left unresolved because their file was gone or replaced
};

// Fills profile.dsos[*].symbols/build_id/deleted/symbolized and profile.unresolved_frames
// (user frames of the stack table, each unique stack counted once, that found no symbol).
// Each unique (dso, address) is resolved once; each ELF is opened once per path and its
// lookups shared by build-id.
SymbolizeStats symbolize_profile(Profile& profile, const SymbolizeOptions& options = {});

// Analysis-time --symfs: the profile's dsos, where those recorded without symbols
// (symbolized == false) are looked up under `symfs` (their recorded path below it, or
// their file name directly in it). The profile itself is left as it is.
std::vector<Dso> symbolize_dsos_under(const Profile& profile, const std::string& symfs,
                                      bool debug_info = true);

}  // namespace kprof
