// `kprof record`: record kernel (and user) call stacks of built-in workloads, a command,
// running processes, or the whole system into a trace file.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "collector/events.hpp"
#include "collector/perf_system.hpp"
#include "collector/recorder.hpp"
#include "collector/workloads/workloads.hpp"
#include "trace/error.hpp"

namespace kprof::cli {

int cmd_record(int argc, char** argv) {
    namespace co = kprof::collector;
    co::RecordOptions options;
    options.kprof_version = KPROF_VERSION;
    {
        std::string line = "kprof";
        for (int i = 0; i < argc; ++i) line += std::string(" ") + argv[i];
        options.command_line = line;
    }
    // Everything after "--" is the command to record, untouched by option parsing.
    int own_argc = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) {
            own_argc = i;
            for (int j = i + 1; j < argc; ++j) options.command.emplace_back(argv[j]);
            break;
        }
    }

    CLI::App app{
        "Record kernel and user call stacks of built-in workloads, a command (-- CMD ARGS), "
        "running processes (-p) or the whole system (-a) into a trace file.",
        "kprof record"};
    app.prefix_command();  // "kprof record ls -l": the first non-option starts the command
    std::string workloads, pids;
    double freq = 0;
    uint64_t period = 0;
    bool no_callgraph = false, call_graph = false, quiet = false;
    std::string call_graph_mode;
    app.add_option("-o,--output", options.output, "write the trace to FILE (default kprof.data)")
        ->option_text("FILE");
    app.add_option("-e,--event", options.events,
                   "event to sample, repeatable or comma-separated: cpu-clock (default), "
                   "task-clock, page-faults, context-switches, cpu-migrations, minor-faults, "
                   "major-faults, hardware events (cycles, instructions, ...) where a PMU "
                   "exists, or a tracepoint SYSTEM:NAME such as net:net_dev_xmit")
        ->option_text("EVENT");
    app.add_option("-F,--freq", freq, "sample at HZ samples per second (default 999)")
        ->option_text("HZ");
    app.add_option("-c,--count", period,
                   "sample every PERIOD events instead of by frequency (tracepoints default to "
                   "1)")
        ->option_text("PERIOD");
    app.add_option("-d,--duration", options.duration_s,
                   "stop after SECONDS (workloads run this long; default 2 for workloads)")
        ->option_text("SECONDS");
    app.add_option("-w,--workload", workloads,
                   "run and record built-in workloads, comma-separated, concurrently: " +
                       workloads::workload_names())
        ->option_text("NAMES");
    app.add_option("--size", options.workload_size,
                   "bytes per write() for the write workload, ICMP payload for ping")
        ->option_text("BYTES");
    app.add_option("-p,--pid", pids,
                   "record running processes (all their threads), comma-separated")
        ->option_text("PID");
    app.add_flag("-a,--all-cpus", options.system_wide,
                 "record the whole system on every CPU (use with -d)");
    app.add_flag("-g", call_graph, "record call stacks, kernel and user (the default)");
    app.add_option("--call-graph", call_graph_mode,
                   "how user stacks are walked: fp (frame pointers, the default) or "
                   "dwarf[,SIZE] (unwind a SIZE-byte copy of each sample's user stack with "
                   "DWARF CFI: binaries without frame pointers; default SIZE 8192)")
        ->option_text("MODE");
    app.add_flag("--no-callgraph", no_callgraph,
                 "record only the sampled instruction (flat PC sampling)");
    app.add_option("--max-stack", options.sampling.max_stack,
                   "keep at most N frames per stack (default 127, at most "
                   "/proc/sys/kernel/perf_event_max_stack)")
        ->option_text("N");
    app.add_option("-m,--mmap-pages", options.sampling.ring_pages,
                   "ring buffer size per CPU in pages, a power of two (default 128)")
        ->option_text("PAGES");
    app.add_flag("--user-only", options.sampling.user_only,
                 "sample user space only (exclude_kernel): what an unprivileged user may "
                 "record of their own processes with perf_event_paranoid=2");
    app.add_flag("-q,--quiet", quiet, "do not print the summary at the end");
    if (const auto done = parse_command_line(app, own_argc, argv)) return *done;
    // "kprof record ls -l" without "--": CLI11 left the command in remaining().
    if (options.command.empty()) {
        for (std::string& a : app.remaining()) options.command.push_back(std::move(a));
    } else if (!app.remaining().empty()) {
        throw Error("unexpected argument '" + app.remaining().front() +
                    "' before --; options go before the command");
    }
    options.workloads = co::split_list(workloads);
    for (const std::string& p : co::split_list(pids)) {
        char* end = nullptr;
        const long v = std::strtol(p.c_str(), &end, 10);
        if (!end || *end || v <= 0 || v > INT32_MAX)
            throw Error("-p '" + p + "' is not a process id (a positive number)");
        options.pids.push_back(static_cast<pid_t>(v));
    }
    if (app.count("--freq")) {
        if (!(freq >= 1)) throw Error("-F must be at least 1 Hz");
        options.sampling.freq = static_cast<uint64_t>(freq);
        options.sampling.freq_explicit = true;
    }
    if (app.count("--count")) {
        if (period == 0) throw Error("-c must be at least 1");
        if (app.count("--freq")) throw Error("give -F or -c, not both");
        options.sampling.period = period;
    }
    if (no_callgraph && (call_graph || !call_graph_mode.empty()))
        throw Error("give -g/--call-graph or --no-callgraph, not both");
    options.sampling.callgraph = !no_callgraph;
    if (!call_graph_mode.empty()) co::parse_call_graph(call_graph_mode, options.sampling);
    if (app.count("--duration") && !(options.duration_s > 0))
        throw Error("-d must be a positive number of seconds");

    co::RealPerfSystem sys;
    const co::RecordSummary summary = co::record(options, sys, stderr);
    if (!quiet) std::fputs(co::format_summary(summary).c_str(), stderr);
    return 0;
}

}  // namespace kprof::cli
