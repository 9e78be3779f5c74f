// Record-time symbolization of user-space frames with elfutils: while the binaries still
// exist, resolve every user ip of the stack table through its mapping and store the hit
// symbols (and build-ids) in the profile's dsos, so the trace is self-contained.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "trace/profile.hpp"

namespace kprof {

struct SymbolizeOptions {
    // DWARF file:line and inlined frames where present, the binary's own (-g builds) or
    // from separate debug files (/usr/lib/debug by build-id, debuglink). Symbol tables are
    // read from separate debug files either way.
    bool debug_info = true;
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

// One hit user address of a dso, in its file offset space (for the vDSO: the offset into
// its image), gathered from the unique stacks.
struct UserAddress {
    uint64_t relative = 0;  // ip - mapping start + pgoff: the DsoSymbol::start space
    uint64_t frames = 0;    // user frames of unique stacks at this address
    bool caller = false;    // seen as a return address (not a stack's first user frame)
    bool resolved = false;  // set by symbolize_addresses
};

// The user addresses of a profile's stacks, per dso; what symbolization needs of the
// stacks. A recorder gathers them as stacks are first seen, so that the stacks themselves
// need not stay in memory until the end.
struct UserAddresses {
    std::vector<std::unordered_map<uint64_t, UserAddress>> by_dso;  // [dso]: offset -> address
    uint64_t unmapped_frames = 0;  // user frames of unique stacks outside every mapping
    uint64_t unmapped = 0;         // unique such addresses (as far as the gatherer knows)
};

// symbolize_profile() for addresses gathered beforehand: fills profile.dsos (the ones with
// addresses) and profile.unresolved_frames, and each address's `resolved`. Reads
// profile.mappings (a deleted binary may still be open through a live process's mapping),
// not profile.stacks.
SymbolizeStats symbolize_addresses(Profile& profile, UserAddresses& addresses,
                                   const SymbolizeOptions& options = {});

// Analysis-time --symfs: the profile's dsos, where those recorded without symbols
// (symbolized == false) are looked up under `symfs` (their recorded path below it, or
// their file name directly in it). The profile itself is left as it is.
std::vector<Dso> symbolize_dsos_under(const Profile& profile, const std::string& symfs,
                                      bool debug_info = true);

}  // namespace kprof
