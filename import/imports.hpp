// Profiles made elsewhere, turned into kprof's trace model.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "trace/profile.hpp"

namespace kprof {

enum class FileFormat { kprof, perf_data, perf_data_pipe, perf_script, folded, unknown };

// Looks at the first bytes of a file (magic numbers; text formats by their first lines).
FileFormat detect_format(std::span<const uint8_t> head);
FileFormat detect_file_format(const std::string& path);  // throws Error if unreadable

struct ImportOptions {
    std::string kallsyms_path;   // kernel symbols for files that carry none ("" = live /proc)
    std::string symfs;           // root for user binaries
    bool symbolize_user = true;  // resolve user frames through the ELF symbolizer
    bool debug_info = true;      // and their DWARF file:line and inlined frames (--no-inline)
    bool unwind_user = true;     // unwind perf record --call-graph dwarf stacks (local binaries)
};

// perf.data (file or pipe mode), natively: import/import_perf.cpp.
Profile import_perf_data(const std::string& path, const ImportOptions& options = {});
Profile import_perf_data_bytes(std::span<const uint8_t> bytes, const ImportOptions& options = {});
// `perf script` text output (what FlameGraph's stackcollapse-perf.pl reads).
Profile import_perf_script(const std::string& path, const ImportOptions& options = {});
Profile import_perf_script_text(std::string_view text);
// Folded stacks "comm;a;b;c 42" (a frame ending in "_[k]" is a kernel frame).
Profile import_folded(const std::string& path);
Profile import_folded_text(std::string_view text);

// Any supported file, by its detected format: what every analysis command opens.
struct ReadReport;
struct LoadOptions {
    ImportOptions import;
    bool recover = false;  // kprof traces: read the complete chunks of an unfinished file
                           // (FILE, or FILE.tmp when FILE does not exist)
    // kprof traces: filled with what reading found (finalized, chunks, what was lost). When
    // null and a recovered trace is incomplete, the loss is printed to stderr instead, so
    // it is never silent.
    ReadReport* report = nullptr;
};
Profile load_profile(const std::string& path, const LoadOptions& options = {});

}  // namespace kprof
