// `kprof workload NAME`: run one built-in workload alone, in this process.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "collector/workloads/workloads.hpp"

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
    if (const auto done = parse_command_line(app, argc, argv)) return *done;
    // A malformed command line exits 2 like CLI11's own errors; a workload that fails, 1.
    auto usage_error = [](const std::string& message) {
        std::fprintf(stderr, "kprof workload: %s\n", message.c_str());
        return 2;
    };
    // Checked here rather than with CLI11 validators, whose messages print the whole range.
    if (app.count("--duration") && !(options.duration_s >= 0))
        return usage_error("--duration must be a number of seconds >= 0 (0 = no time limit)");
    if (app.count("--ops") && options.max_ops == 0)
        return usage_error("--ops must be at least 1 (leave it out for no limit)");
    if (app.count("--size") && options.size == 0)
        return usage_error("--size must be at least 1 byte");

    if (list) {
        for (const wl::Workload& w : wl::workloads())
            std::printf("%-8s %.*s\n", std::string(w.name).c_str(),
                        static_cast<int>(w.summary.size()), w.summary.data());
        return 0;
    }
    if (name.empty())
        return usage_error("name a workload to run (" + wl::workload_names() +
                           "), or list them with --list");
    if (!wl::is_workload(name))
        return usage_error("unknown workload '" + name +
                           "'; the built-in workloads are: " + wl::workload_names());
    return wl::run_workload_main(name, options);
}

}  // namespace kprof::cli
