// What the analysis commands share: the options that say how to open and symbolize a
// trace, and opening it.
#pragma once

#include <string>

#include "trace/format.hpp"
#include "trace/imports.hpp"
#include "trace/profile.hpp"
#include "trace/resolve.hpp"

namespace CLI {
class App;
}

namespace kprof::cli {

struct TraceOptions {
    std::string file = kDefaultTraceName;
    std::string kallsyms;  // --kallsyms F
    std::string symfs;     // --symfs D
    bool no_inline = false;
    bool recover = false;
};

// Adds FILE (optional, default kprof.data) and --kallsyms, --symfs, --no-inline, --recover.
void add_trace_options(CLI::App& app, TraceOptions& options);

struct OpenedTrace {
    Profile profile;
    FileFormat format = FileFormat::unknown;
    ReadReport report;  // kprof traces: finalized, chunks, what --recover lost
    std::string path;   // the file actually read (FILE.tmp when recovering)
};

// Opens any supported file. An incomplete recovered trace is reported on stderr.
OpenedTrace open_trace(const TraceOptions& options);
ResolveOptions resolve_options(const TraceOptions& options);

std::string format_name(FileFormat format);

}  // namespace kprof::cli
