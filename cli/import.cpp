// `kprof import FILE -o OUT`: a profile made elsewhere (perf.data, perf script text,
// folded stacks) converted into a self-contained kprof trace.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "import/imports.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"
#include "trace/text.hpp"

namespace kprof::cli {

int cmd_import(int argc, char** argv) {
    CLI::App app{"Convert perf.data, perf script text or folded stacks into a kprof trace.",
                 "kprof import"};
    std::string input, output, format = "auto";
    ImportOptions options;
    bool quiet = false;
    app.add_option("FILE", input, "the file to convert (format detected from its contents)")
        ->required();
    app.add_option("-o,--output", output, "the kprof trace to write (default kprof.data)")
        ->option_text("OUT");
    app.add_option("--format", format,
                   "the input format, when detection guesses wrong: auto, perf-data, "
                   "perf-script, folded")
        ->option_text("FORMAT");
    app.add_option("--kallsyms", options.kallsyms_path,
                   "kernel symbols for perf.data kernel frames (default: the running "
                   "kernel's /proc/kallsyms)")
        ->option_text("FILE");
    app.add_option("--symfs", options.symfs,
                   "look up the user binaries of perf.data under this root directory")
        ->option_text("DIR");
    app.add_flag(
        "--no-user-symbols",
        [&](int64_t) {
            options.symbolize_user = false;
            options.unwind_user = false;
        },
        "leave perf.data user frames unresolved (do not read the binaries)");
    app.add_flag("-q,--quiet", quiet, "print nothing on success");
    if (const auto done = parse_command_line(app, argc, argv)) return *done;
    if (output.empty()) output = kDefaultTraceName;
    if (output == input)
        throw Error("the output would overwrite the input " + input + ": choose another -o OUT");

    FileFormat f = FileFormat::unknown;
    if (format == "auto") {
        f = detect_file_format(input);
    } else if (format == "perf-data") {
        f = FileFormat::perf_data;
    } else if (format == "perf-script") {
        f = FileFormat::perf_script;
    } else if (format == "folded") {
        f = FileFormat::folded;
    } else {
        throw Error("--format must be auto, perf-data, perf-script or folded, not '" +
                    escape_text(format) + "'");
    }

    Profile profile;
    switch (f) {
        case FileFormat::perf_data:
        case FileFormat::perf_data_pipe:
            profile = import_perf_data(input, options);
            break;
        case FileFormat::perf_script:
            profile = import_perf_script(input, options);
            break;
        case FileFormat::folded:
            profile = import_folded(input);
            break;
        case FileFormat::kprof:
            throw Error(input +
                        " is already a kprof trace: open it directly with kprof info, "
                        "report or tui");
        case FileFormat::unknown:
            throw Error(escape_text(input) +
                        ": not a format kprof imports (perf.data, perf script text, folded "
                        "stacks); if it is one of them, name it with --format");
    }
    write_trace(output, profile);
    if (!quiet) {
        std::printf("%s: %s, %zu samples, %zu unique stacks, %zu events -> %s\n",
                    escape_text(input).c_str(), format_name(f).c_str(), profile.samples.size(),
                    profile.stacks.size(), profile.events.size(), escape_text(output).c_str());
        if (profile.total_lost() > 0)
            std::printf("  the recording lost %llu samples or records\n",
                        static_cast<unsigned long long>(profile.total_lost()));
    }
    return 0;
}

}  // namespace kprof::cli
