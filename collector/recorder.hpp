// A recording session: starts or attaches to the target, opens the events, drains the
// per-CPU rings into the trace model while streaming samples to the trace file, and
// always finalizes the trace — on target exit, -d, SIGINT/SIGTERM, or a failing target.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "collector/perf_events.hpp"
#include "collector/perf_system.hpp"
#include "symbols/unwind.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace kprof::collector {

struct RecordOptions {
    std::string output = kDefaultTraceName;
    std::vector<std::string> events;  // -e names; empty: cpu-clock
    SamplingOptions sampling;         // its events, inherit, enable_on_exec are set by record()
    double duration_s = 0;            // -d; 0: until the target exits or a signal
    // Exactly one target: built-in workloads, a command, pids, or the whole system.
    std::vector<std::string> workloads;
    size_t workload_size = 0;  // --size for the write/ping workloads (0: their default)
    std::vector<std::string> command;
    std::vector<pid_t> pids;
    bool system_wide = false;

    std::string command_line;  // stored in the trace metadata
    std::string kprof_version;
    std::string kprof_binary;  // runs the workloads; "" = this executable
    std::string tracefs_root;  // "" = the system's (mounted if needed)
    std::string kallsyms_path = "/proc/kallsyms";
    bool symbolize = true;          // resolve user frames with elfutils before finishing
    double grace_s = 3;             // how long a signalled target may take to exit before SIGKILL
    double workload_default_s = 2;  // workload duration without -d
};

struct TargetStatus {
    std::string name;  // "socket" or the command
    pid_t pid = 0;
    int exit_code = 0;  // >= 0 exit code, < 0 -signal
};

struct RecordSummary {
    std::string output;
    std::string target;
    std::vector<EventDesc> events;
    std::vector<CpuLoss> losses;
    uint64_t samples = 0;
    uint64_t stacks = 0;
    uint64_t trace_bytes = 0;
    double seconds = 0;
    double collector_cpu_s = 0;  // user+sys of the recorder while recording
    bool interrupted = false;
    std::vector<TargetStatus> targets;
    int exit_status = 0;  // first non-zero target status, else 0
    uint64_t unknown_records = 0;
    uint64_t malformed_records = 0;
    uint64_t corrupt_ring_bytes = 0;
    std::vector<std::string> warnings;
    bool dwarf = false;  // --call-graph dwarf: how the user stacks unwound
    uint32_t user_stack_size = 0;
    UnwindStats unwind;
};

// Records; throws Error (with what to do) when it cannot start, and when writing fails
// ("no space ..."), after stopping the target. `log` gets progress warnings (may be null).
RecordSummary record(const RecordOptions& options, PerfSystem& sys, std::FILE* log);

// The end-of-recording report: samples per event, losses per CPU and in total, the
// collector's CPU time per sample, trace size, target exit statuses.
std::string format_summary(const RecordSummary& summary);

// Recording-phase CPU time (user + sys) of this process, in seconds.
double process_cpu_seconds();

}  // namespace kprof::collector
