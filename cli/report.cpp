// kprof report: the analyzer's text and file outputs (flat profile by default).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <limits>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"
#include "analyzer/report.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "import/imports.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"

namespace kprof::cli {
namespace {

enum class Output { flat, callgraph, butterfly, tree, json, folded, dot, svg };

// stackcollapse-perf.pl keeps only the event of the first sample it reads (perf script
// prints samples in time order) and says so on stderr: --folded does the same.
int first_sample_event(const Profile& profile, const AggregatedProfile& agg) {
    const Sample* first = nullptr;
    for (const Sample& s : profile.samples) {
        if (s.event >= profile.events.size()) continue;
        if (agg.find_event(profile.events[s.event].name) < 0) continue;
        if (first == nullptr || s.time_ns < first->time_ns) first = &s;
    }
    return first == nullptr ? 0 : agg.find_event(profile.events[first->event].name);
}

std::vector<size_t> events_with_samples(const AggregatedProfile& agg) {
    std::vector<size_t> out;
    for (size_t e = 0; e < agg.event_count(); ++e)
        if (agg.events()[e].samples != 0) out.push_back(e);
    if (out.empty() && agg.event_count() != 0) out.push_back(0);
    return out;
}

}  // namespace

int cmd_report(int argc, char** argv) {
    CLI::App cli{
        "Analyze a trace: flat profile (default), gprof-style call graph, callers/callees "
        "of a function, call trees, JSON, folded stacks, Graphviz DOT or an SVG flame graph.",
        "kprof report"};
    TraceOptions trace;
    std::string output_path;
    AggregateOptions agg_options;
    FilterOptions& flt = agg_options.filters;
    ReportOptions rep;
    std::string weight = "samples", cpus, pids, tids, time_spec, callers, callees;
    bool callgraph = false, tree = false, json = false, folded = false, dot = false, svg = false,
         flat = false;
    cli.add_option("-o,--output", output_path, "write the report to this file instead of stdout");
    // Outputs
    auto* o_flat = cli.add_flag("--flat", flat, "flat profile sorted by self weight (the default)");
    auto* o_cg = cli.add_flag("--callgraph", callgraph,
                              "gprof-style call graph: each function with callers and callees");
    auto* o_callers = cli.add_option("--callers", callers,
                                     "callers of the functions named F (exact name, else regex)")
                          ->type_name("F");
    auto* o_callees = cli.add_option("--callees", callees,
                                     "callees of the functions named F (exact name, else regex)")
                          ->type_name("F");
    auto* o_tree = cli.add_flag("--tree", tree, "call tree, top-down (bottom-up with --inverted)");
    auto* o_json = cli.add_flag("--json", json, "the whole call graph as JSON (see the man page)");
    auto* o_folded =
        cli.add_flag("--folded", folded, "folded stacks for FlameGraph: comm;root;...;leaf weight");
    auto* o_dot = cli.add_flag("--dot", dot, "Graphviz DOT call graph (render with dot -Tsvg)");
    auto* o_svg = cli.add_flag("--svg", svg, "SVG flame graph (icicle with --inverted)");
    for (auto* a : {o_flat, o_cg, o_callers, o_callees, o_tree, o_json, o_folded, o_dot, o_svg})
        for (auto* b : {o_flat, o_cg, o_tree, o_json, o_folded, o_dot, o_svg})
            if (a != b) a->excludes(b);
    cli.add_flag("--inverted", rep.inverted, "--tree: bottom-up tree; --svg: icicle graph");
    // Weight and filters
    cli.add_option("--weight", weight, "samples (count) or period (summed sample periods)")
        ->check(CLI::IsMember({"samples", "period"}));
    cli.add_option("-e,--event", flt.events, "only this event (repeatable; default all)")
        ->allow_extra_args(false)
        ->type_name("NAME");
    cli.add_option("--cpu", cpus, "only these CPUs, e.g. 0,2-3")->type_name("LIST");
    cli.add_option("--pid", pids, "only these process ids, e.g. 42,43")->type_name("LIST");
    cli.add_option("--tid", tids, "only these thread ids")->type_name("LIST");
    cli.add_option("--comm", flt.comms, "only threads with this name (repeatable)")
        ->allow_extra_args(false)
        ->type_name("NAME");
    cli.add_option("--time", time_spec,
                   "only samples in START,END seconds from the start, or percent slices 10%,20%")
        ->type_name("START,END");
    auto* ko = cli.add_flag("--kernel-only", flt.kernel_only, "keep kernel frames only");
    auto* uo = cli.add_flag("--user-only", flt.user_only, "keep user frames only");
    ko->excludes(uo);
    cli.add_option("--focus", flt.focus, "keep stacks through a function matching RE")
        ->type_name("RE");
    cli.add_option("--ignore", flt.ignore, "drop stacks through a function matching RE")
        ->type_name("RE");
    cli.add_option("--hide", flt.hide, "remove frames matching RE from every stack")
        ->type_name("RE");
    cli.add_option("--percent-limit", rep.percent_limit, "omit rows under P percent of the total")
        ->type_name("P")
        ->check(CLI::Range(0.0, 100.0));
    cli.add_option("--node-fraction", rep.node_fraction,
                   "--dot: omit functions under this fraction of the total (default 0.005)")
        ->check(CLI::Range(0.0, 1.0));
    cli.add_option("--edge-fraction", rep.edge_fraction,
                   "--dot: omit arcs under this fraction of the total (default 0.001)")
        ->check(CLI::Range(0.0, 1.0));
    cli.add_flag("--annotate-kernel", rep.annotate_kernel,
                 "--folded: append _[k] to kernel frames");
    cli.add_option("--max-depth", rep.max_depth, "--tree: print at most this many levels");
    cli.add_option("--width", rep.svg_width, "--svg: image width in pixels (default 1200)")
        ->check(CLI::Range(200, 100000));
    // Symbols and loading, as every analysis command takes them.
    add_trace_options(cli, trace);
    if (const auto done = parse_command_line(cli, argc, argv)) return *done;

    agg_options.weight = weight == "period" ? WeightKind::period : WeightKind::samples;
    if (!cpus.empty()) flt.cpus = parse_id_list(cpus);
    if (!pids.empty()) flt.pids = parse_id_list(pids);
    if (!tids.empty()) flt.tids = parse_id_list(tids);
    if (!time_spec.empty()) flt.time = TimeRange::parse(time_spec);
    agg_options.resolve = resolve_options(trace);
    rep.trace_name = trace.file;

    Output what = Output::flat;
    if (callgraph) what = Output::callgraph;
    if (!callers.empty() || !callees.empty()) what = Output::butterfly;
    if (tree) what = Output::tree;
    if (json) what = Output::json;
    if (folded) what = Output::folded;
    if (dot) what = Output::dot;
    if (svg) what = Output::svg;

    const Profile profile = open_trace(trace).profile;
    const AggregatedProfile agg = aggregate(profile, agg_options);

    std::ofstream file_out;
    if (!output_path.empty()) {
        file_out.open(output_path, std::ios::binary | std::ios::trunc);
        if (!file_out)
            throw Error(fmt::format("cannot write {}: check the directory exists and is writable",
                                    output_path));
    }
    std::ostream& out = output_path.empty() ? std::cout : file_out;

    const std::vector<size_t> events = events_with_samples(agg);
    const size_t main_event = events.empty() ? 0 : events.front();
    switch (what) {
        case Output::flat:
        case Output::callgraph:
        case Output::tree:
        case Output::butterfly: {
            const CallGraph graph(agg);
            std::vector<FunctionId> functions;
            if (what == Output::butterfly) {
                const std::string& name = callers.empty() ? callees : callers;
                if (!callers.empty() && !callees.empty() && callers != callees)
                    throw Error("give --callers and --callees the same function, or one of them");
                for (FunctionId f = 0; f < agg.functions().size(); ++f)
                    if (agg.function(f).name == name) functions.push_back(f);
                if (functions.empty()) functions = agg.find_functions(name);
                if (functions.empty())
                    throw Error(
                        fmt::format("no function matches '{}'; 'kprof report {}' lists the "
                                    "functions of the trace",
                                    name, trace.file));
            }
            for (size_t i = 0; i < events.size(); ++i) {
                if (i) out << "\n";
                rep.event = events[i];
                if (what == Output::flat) write_flat(out, graph, rep);
                if (what == Output::callgraph) write_callgraph(out, graph, rep);
                if (what == Output::tree) write_tree(out, agg, rep);
                if (what == Output::butterfly)
                    write_butterfly(out, graph, functions, !callers.empty(), !callees.empty(), rep);
            }
            if (events.empty()) out << report_header(agg, rep);
            break;
        }
        case Output::json:
            write_json(out, CallGraph(agg), rep);
            break;
        case Output::folded:
            rep.event = main_event;
            if (agg.event_count() > 1) {
                rep.event = static_cast<size_t>(std::max(0, first_sample_event(profile, agg)));
                std::cerr << "Filtering for events of type: " << agg.events()[rep.event].name
                          << "\n";
            }
            write_folded(out, agg, rep);
            break;
        case Output::dot:
            rep.event = main_event;
            write_dot(out, CallGraph(agg), rep);
            break;
        case Output::svg:
            rep.event = main_event;
            write_svg(out, agg, rep);
            break;
    }
    out.flush();
    if (!out) throw Error("writing the report failed (disk full or closed pipe?)");
    return 0;
}

}  // namespace kprof::cli
