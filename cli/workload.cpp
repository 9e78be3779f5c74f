// `kprof workload NAME`: run one built-in workload alone, in this process.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "collector/workloads/workloads.hpp"
#include "trace/error.hpp"

namespace kprof::cli {

int cmd_workload(int argc, char** argv) {
    namespace wl = kprof::workloads;
    CLI::App app{"Run one built-in workload alone and print its operation count and rate.",
                 "kprof workload"};
    std::string name;
    wl::Options options;
    bool list = false;
    app.add_option("NAME", name, "the workload: " + wl::workload_names());
    app.add_option("-d,--duration", options.duration_s,
                   "stop after SECONDS (default 2, or no limit with -n; 0 = no limit)")
        ->option_text("SECONDS");
    app.add_option("-n,--ops", options.max_ops, "stop after OPS operations")->option_text("OPS");
    app.add_option("--size", options.size,
                   "bytes per write() for write (default 4096), ICMP payload bytes for ping "
                   "(default 56); socket ignores it")
        ->option_text("BYTES");
    app.add_flag("-l,--list", list, "list the built-in workloads and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 has its own exit codes; kprof uses 2 for every malformed command line.
        return app.exit(e) == 0 ? 0 : 2;
    }
    // Checked here rather than with CLI11 validators, whose messages print the whole range.
    if (app.count("--duration") && !(options.duration_s >= 0))
        throw Error("--duration must be a number of seconds >= 0 (0 = no time limit)");
    if (app.count("--ops") && options.max_ops == 0)
        throw Error("--ops must be at least 1 (leave it out for no limit)");
    if (app.count("--size") && options.size == 0) throw Error("--size must be at least 1 byte");

    if (list) {
        for (const wl::Workload& w : wl::workloads())
            std::printf("%-8s %.*s\n", std::string(w.name).c_str(),
                        static_cast<int>(w.summary.size()), w.summary.data());
        return 0;
    }
    if (name.empty())
        throw Error("name a workload to run (" + wl::workload_names() +
                    "), or list them with --list");
    return wl::run_workload_main(name, options);
}

}  // namespace kprof::cli
