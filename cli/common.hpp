// What the analysis commands share: the options that say how to open and symbolize a
// trace, and opening it.
#pragma once

#include <optional>
#include <string>

#include "import/imports.hpp"
#include "symbols/resolve.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace CLI {
class App;
}

namespace kprof::cli {

// Parses a command's arguments. Returns its exit status when the command is done already:
// 0 after --help, 2 (with CLI11's message) for a malformed command line, as for every
// kprof command; nullopt when it should run.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

struct TraceOptions {
    std::string file = kDefaultTraceName;
    std::string kallsyms;  // --kallsyms F
    std::string symfs;     // --symfs D
    bool no_inline = false;
    bool recover = false;
};

// Adds FILE (optional, default kprof.data) and --recover: what opening a trace takes.
void add_trace_file_options(CLI::App& app, TraceOptions& options);
// Adds those and --kallsyms, --symfs, --no-inline: what symbolizing its frames takes.
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
