#include <CLI/CLI.hpp>

#include "analyzer/aggregate.hpp"
#include "cli/commands.hpp"
#include "trace/error.hpp"
#include "trace/imports.hpp"
#include "tui/app.hpp"
#include "tui/render/terminal.hpp"
#include "tui/session.hpp"

namespace kprof::cli {

int cmd_tui(int argc, char** argv) {
    CLI::App cli{
        "Browse a trace's call graph by function in the terminal: callers above, "
        "callees below, with call tree, flame graph and path views.",
        "kprof tui"};
    std::string file;
    std::string event;
    LoadOptions load;
    tui::TerminalOptions term;
    bool ascii = false, no_color = false, no_mouse = false;
    cli.add_option("FILE", file,
                   "trace to browse (kprof trace, perf.data, perf script text or "
                   "folded stacks)")
        ->required();
    cli.add_option("-e,--event", event, "event to show first (default: the first with samples)");
    cli.add_option("--kallsyms", load.import.kallsyms_path,
                   "kernel symbols for files that carry none (default: /proc/kallsyms)");
    cli.add_option("--symfs", load.import.symfs, "root directory to find user binaries under");
    cli.add_flag("--recover", load.recover,
                 "read the complete part of an unfinished trace (FILE.tmp)");
    cli.add_flag("--ascii", ascii, "ASCII bars and tree glyphs even in a UTF-8 locale");
    cli.add_flag("--no-color", no_color, "no colours, only bold and reverse (as does NO_COLOR)");
    cli.add_flag("--no-mouse", no_mouse, "do not ask the terminal for mouse clicks");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    // Fail before loading a large trace when there is no terminal to show it on.
    if (!tui::interactive_terminal())
        throw Error(
            "standard output is not a terminal; 'kprof tui' needs one. For text output "
            "use 'kprof report " +
            file + "'");
    term.unicode = !ascii;
    term.color = !no_color;
    term.mouse = !no_mouse;

    AggregateOptions aggregate_options;
    aggregate_options.resolve.kallsyms_path = load.import.kallsyms_path;
    aggregate_options.resolve.symfs = load.import.symfs;
    tui::Session session(load_profile(file, load), file, aggregate_options);
    if (!event.empty() && !session.select_event(event))
        throw Error("the trace has no event '" + event + "'; 'kprof info " + file +
                    "' lists its events");
    tui::App app(session);
    tui::run_terminal(app, term);
    return 0;
}

}  // namespace kprof::cli
