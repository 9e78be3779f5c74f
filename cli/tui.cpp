#include <CLI/CLI.hpp>

#include "analyzer/aggregate.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "import/imports.hpp"
#include "trace/error.hpp"
#include "tui/app.hpp"
#include "tui/render/terminal.hpp"
#include "tui/session.hpp"

namespace kprof::cli {

int cmd_tui(int argc, char** argv) {
    CLI::App cli{
        "Browse a trace's call graph by function in the terminal: callers above, "
        "callees below, with call tree, flame graph and path views.",
        "kprof tui"};
    TraceOptions trace;
    std::string event;
    tui::TerminalOptions term;
    bool ascii = false, no_color = false, no_mouse = false;
    add_trace_options(cli, trace);
    cli.add_option("-e,--event", event, "event to show first (default: the first with samples)");
    cli.add_flag("--ascii", ascii, "ASCII bars and tree glyphs even in a UTF-8 locale");
    cli.add_flag("--no-color", no_color, "no colours, only bold and reverse (as does NO_COLOR)");
    cli.add_flag("--no-mouse", no_mouse, "do not ask the terminal for mouse clicks");
    if (const auto done = parse_command_line(cli, argc, argv)) return *done;
    // Fail before loading a large trace when there is no terminal to show it on.
    if (!tui::interactive_terminal())
        throw Error(
            "standard output is not a terminal; 'kprof tui' needs one. For text output "
            "use 'kprof report " +
            trace.file + "'");
    term.unicode = !ascii;
    term.color = !no_color;
    term.mouse = !no_mouse;

    AggregateOptions aggregate_options;
    aggregate_options.resolve = resolve_options(trace);
    OpenedTrace opened = open_trace(trace);
    tui::Session session(std::move(opened.profile), opened.path, aggregate_options);
    if (!event.empty() && !session.select_event(event))
        throw Error("the trace has no event '" + event + "'; 'kprof info " + trace.file +
                    "' lists its events");
    tui::App app(session);
    tui::run_terminal(app, term);
    return 0;
}

}  // namespace kprof::cli
