#include "cli/common.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "trace/text.hpp"

namespace kprof::cli {

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 has an exit code of its own for each kind of error.
        return app.exit(e) == 0 ? 0 : 2;
    }
    return std::nullopt;
}

void add_trace_file_options(CLI::App& app, TraceOptions& options) {
    app.add_option("FILE", options.file,
                   "trace to read: a kprof trace, perf.data, perf script text or folded stacks "
                   "(default: kprof.data)");
    app.add_flag("--recover", options.recover,
                 "read every complete chunk of an unfinished trace (FILE, or FILE.tmp left by "
                 "a recording that was killed)");
}

void add_trace_options(CLI::App& app, TraceOptions& options) {
    add_trace_file_options(app, options);
    app.add_option("--kallsyms", options.kallsyms,
                   "kernel symbols to use instead of the trace's snapshot (a /proc/kallsyms "
                   "copy); also for files that carry none")
        ->type_name("FILE");
    app.add_option("--symfs", options.symfs,
                   "directory to look up user binaries under, for dsos the trace has no symbols "
                   "for")
        ->type_name("DIR");
    app.add_flag("--no-inline", options.no_inline,
                 "do not show inlined functions as frames (for a perf.data: read no DWARF)");
}

OpenedTrace open_trace(const TraceOptions& options) {
    OpenedTrace t;
    t.path = options.file;
    if (options.recover && !std::filesystem::exists(t.path) &&
        std::filesystem::exists(t.path + ".tmp"))
        t.path += ".tmp";
    t.format = detect_file_format(t.path);
    LoadOptions load;
    load.import.kallsyms_path = options.kallsyms;
    load.import.symfs = options.symfs;
    // An imported perf.data is symbolized on load: --no-inline skips its DWARF too.
    load.import.debug_info = !options.no_inline;
    load.recover = options.recover;
    load.report = &t.report;
    t.profile = load_profile(t.path, load);
    if (!t.report.finalized)
        std::fprintf(stderr, "kprof: warning: %s: %s\n", escape_text(t.path).c_str(),
                     escape_text(t.report.note).c_str());
    return t;
}

ResolveOptions resolve_options(const TraceOptions& options) {
    ResolveOptions r;
    r.kallsyms_path = options.kallsyms;
    r.symfs = options.symfs;
    r.inline_frames = !options.no_inline;
    return r;
}

std::string format_name(FileFormat format) {
    switch (format) {
        case FileFormat::kprof:
            return "kprof trace";
        case FileFormat::perf_data:
            return "perf.data";
        case FileFormat::perf_data_pipe:
            return "perf.data (pipe mode)";
        case FileFormat::perf_script:
            return "perf script text";
        case FileFormat::folded:
            return "folded stacks";
        case FileFormat::unknown:
            break;
    }
    return "unknown";
}

}  // namespace kprof::cli
