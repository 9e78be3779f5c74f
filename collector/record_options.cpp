// What a recording is asked to do, checked before anything starts: one target, known
// workloads, a command that exists, a valid -d; the -e names resolved to events;
// -F/-c/--max-stack/-m held against the kernel's limits; and the target's description
// for the trace metadata.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "collector/recorder_internal.hpp"
#include "collector/workloads/workloads.hpp"

namespace kprof::collector::detail {
namespace {

uint64_t parse_u64(const std::optional<std::string>& s, uint64_t fallback) {
    if (!s) return fallback;
    try {
        return std::stoull(*s);
    } catch (...) {
        return fallback;
    }
}

}  // namespace

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

std::vector<EventSpec> resolve_events(const RecordOptions& options) {
    std::vector<std::string> names;
    for (const std::string& e : options.events)
        for (std::string& n : split_list(e)) names.push_back(std::move(n));
    if (names.empty()) names.push_back("cpu-clock");
    if (names.size() > 64) throw Error("too many events (at most 64 in one recording)");

    const std::vector<std::string> builtins = builtin_event_names();
    const bool need_tracefs = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
        return std::find(builtins.begin(), builtins.end(), n) == builtins.end();
    });
    const bool have_tracepoints = std::any_of(names.begin(), names.end(), [](const std::string& n) {
        return n.find(':') != std::string::npos;
    });
    std::optional<Tracefs> tracefs;
    if (need_tracefs) {
        try {
            tracefs =
                options.tracefs_root.empty() ? Tracefs::system() : Tracefs(options.tracefs_root);
        } catch (const Error&) {
            if (have_tracepoints) throw;  // else: only the suggestions are poorer
        }
    }
    std::vector<EventSpec> out;
    for (const std::string& n : names) {
        EventSpec spec = resolve_event(n, tracefs ? &*tracefs : nullptr);
        for (const EventSpec& prev : out)
            if (prev.type == spec.type && prev.config == spec.config)
                throw Error("event '" + n + "' is given twice; give each event once");
        out.push_back(std::move(spec));
    }
    return out;
}

// Checks -F, -c, --max-stack and -m against the kernel's limits before anything starts,
// so the user hears which option to change rather than "Invalid argument".
void check_limits(SamplingOptions& s, PerfSystem& sys) {
    if (s.ring_pages == 0 || (s.ring_pages & (s.ring_pages - 1)) != 0)
        throw Error("-m " + std::to_string(s.ring_pages) +
                    ": the ring size must be a power of two number of pages (e.g. 64, 128)");
    if (!s.period && (s.freq == 0))
        throw Error("-F 0: the sampling frequency must be at least 1 Hz");
    const bool any_freq =
        !s.period && std::any_of(s.events.begin(), s.events.end(),
                                 [&](const EventSpec& e) { return sampling_for(e, s).use_freq; });
    if (any_freq) {
        const uint64_t max_rate = parse_u64(sys.read_sysctl("perf_event_max_sample_rate"), 0);
        if (max_rate && s.freq > max_rate)
            throw Error("-F " + std::to_string(s.freq) +
                        " exceeds /proc/sys/kernel/perf_event_max_sample_rate (" +
                        std::to_string(max_rate) + "): use a lower -F or raise the sysctl");
    }
    if (s.callgraph) {
        const uint64_t max_stack = parse_u64(sys.read_sysctl("perf_event_max_stack"), 127);
        if (s.max_stack > max_stack)
            throw Error("--max-stack " + std::to_string(s.max_stack) +
                        " exceeds /proc/sys/kernel/perf_event_max_stack (" +
                        std::to_string(max_stack) +
                        "): use a lower --max-stack or raise the sysctl");
        if (s.max_stack == 0) throw Error("--max-stack 0: use --no-callgraph for PC sampling");
    }
    if (s.callgraph && s.dwarf) {
        // Every sample carries its stack copy: a ring that holds only a few of them loses
        // most samples between two drains.
        const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
        const uint64_t sample = uint64_t{s.user_stack_size} + 1024;
        const uint64_t need = 8 * sample;
        if (s.ring_pages * page < need) {
            uint64_t pages = 1;
            while (pages * page < need) pages *= 2;
            throw Error("-m " + std::to_string(s.ring_pages) + ": a ring of " +
                        std::to_string(s.ring_pages * page / 1024) +
                        " KiB holds too few samples of --call-graph dwarf," +
                        std::to_string(s.user_stack_size) +
                        " (each copies that many bytes of "
                        "stack); use -m " +
                        std::to_string(pages) +
                        " or more, or a smaller "
                        "stack copy");
        }
    }
}

std::string target_description(const RecordOptions& o) {
    // -a with a command or workloads: the whole system, for as long as they run.
    const std::string sys = o.system_wide ? "system while " : "";
    if (!o.workloads.empty()) return sys + "workload " + join(o.workloads, ",");
    if (!o.command.empty()) return sys + "command " + join(o.command, " ");
    if (!o.pids.empty()) {
        std::vector<std::string> p;
        for (pid_t pid : o.pids) p.push_back(std::to_string(pid));
        return "pid " + join(p, ",");
    }
    return "system";
}

void validate_options(const RecordOptions& options) {
    const int kinds =
        (!options.workloads.empty()) + (!options.command.empty()) + (!options.pids.empty());
    if (kinds == 0 && !options.system_wide)
        throw Error(
            "nothing to record: give --workload NAMES, -- CMD ARGS, -p PID, or -a (with -d)");
    if (kinds > 1 || (options.system_wide && !options.pids.empty()))
        throw Error(
            "give one target only: --workload, -- CMD, -p PID or -a (-a may be combined with "
            "a command or workloads: the whole system while they run)");
    for (const std::string& w : options.workloads)
        if (!workloads::is_workload(w))
            throw Error("unknown workload '" + w +
                        "'; the built-in workloads are: " + workloads::workload_names());
    if (!options.command.empty() && !find_executable(options.command[0]))
        throw Error("cannot run '" + options.command[0] + "': command not found");
    if (options.duration_s < 0 || !std::isfinite(options.duration_s))
        throw Error("-d must be a positive number of seconds");
}

}  // namespace kprof::collector::detail
