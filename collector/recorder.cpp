// One `kprof record` run from start to end: validates the options, starts the target and
// opens the events, writes the trace's fixed parts, then polls the rings, signals and
// target exits until the recording stops, and finishes the trace (symbolization, stacks,
// summary). The pieces it calls live in the record_*.cpp files.
#include "collector/recorder.hpp"

#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/recorder_internal.hpp"
#include "collector/signal_redirect.hpp"
#include "symbols/kallsyms.hpp"

namespace kprof::collector {
namespace detail {

RecordSummary Recording::run() {
    // Validate everything that does not need the kernel first: no process is started and
    // no file created for a command line that cannot work.
    validate_options(options_);
    const bool has_children = !options_.workloads.empty() || !options_.command.empty();

    sampling_ = options_.sampling;
    sampling_.events = resolve_events(options_);
    const bool task_target = !options_.system_wide;
    sampling_.inherit = task_target;
    // Task events start counting when the held child execs; system-wide ones are simply
    // enabled before the children are let go.
    sampling_.enable_on_exec = has_children && !options_.system_wide;
    check_limits(sampling_, sys_);
    layout_ = sample_layout(sampling_);
    cpus_ = online_cpus();

    SignalRedirect signals;
    start_children(signals.old_mask());
    const std::vector<pid_t> pids = event_pids();
    events_ = std::make_unique<PerfEventSet>(sys_, sampling_, pids, cpus_,
                                             static_cast<size_t>(::sysconf(_SC_PAGESIZE)));

    // The trace model's fixed parts.
    TraceMeta& meta = profile_.meta;
    {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        meta.hostname = host;
        utsname u{};
        ::uname(&u);
        meta.kernel_release = u.release;
        meta.arch = u.machine;
    }
    meta.command_line = options_.command_line;
    meta.target = target_description(options_);
    summary_.target = meta.target;
    meta.kprof_version = options_.kprof_version;
    meta.source_format = "kprof";
    meta.nr_cpus = static_cast<uint32_t>(cpus_.size());
    for (const EventSpec& e : sampling_.events) {
        const EventSampling s = sampling_for(e, sampling_);
        profile_.events.push_back(EventDesc{.name = e.name,
                                            .type = e.type,
                                            .config = e.config,
                                            .use_freq = s.use_freq,
                                            .freq_or_period = s.value});
    }
    ProfileBuilder builder(profile_, events_->event_ids(), cpus_);
    // The whole system over a long run sees thousands of processes come and go: keep in
    // memory only the stacks and mappings of the live ones.
    if (options_.system_wide) builder.stream_stacks();
    if (sampling_.callgraph && sampling_.dwarf) {
        unwinder_ = std::make_unique<UserUnwinder>();
        builder.unwind_user_stacks(*unwinder_, layout_.regs_user, sampling_.max_stack);
    }

    profile_.kernel_symbols = read_kallsyms(options_.kallsyms_path);
    if (profile_.kernel_symbols.empty()) {
        warn("no kernel symbols could be read from " + options_.kallsyms_path +
             ": kernel frames will show as addresses");
    } else if (kallsyms_restricted(profile_.kernel_symbols)) {
        meta.kptr_restricted = true;
        // All-zero addresses would resolve every kernel frame to one wrong symbol.
        profile_.kernel_symbols.clear();
        warn(options_.kallsyms_path +
             " shows all-zero addresses (kernel.kptr_restrict hides them from this user): "
             "kernel frames will not resolve; record as root or set "
             "'sysctl kernel.kptr_restrict=0'");
    }

    const uint64_t prepared = clock_ns(CLOCK_MONOTONIC);
    meta.start_time_ns = clock_ns(CLOCK_REALTIME);
    meta.first_sample_ns = prepared;
    // Only now, with every event open, the output file appears. The metadata and symbol
    // snapshot go out first, so a recording cut short is recovered with names (and a full
    // disk shows up before the target even starts).
    writer_.emplace(options_.output);
    try {
        writer_->add_metadata(profile_);
    } catch (const Error& e) {
        fail_writing(e);
    }
    for (size_t i = 0; i < children_.size(); ++i) {
        const ChildProcess& c = children_[i];
        const std::string& path = c.argv()[0];
        const size_t slash = path.rfind('/');
        builder.add_thread(static_cast<uint32_t>(c.pid()), static_cast<uint32_t>(c.pid()),
                           static_cast<uint32_t>(::getpid()),
                           path.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 15),
                           prepared);
    }

    // The recording proper starts here: -d counts from now, however long the set-up took.
    const double cpu_before = process_cpu_seconds();
    const uint64_t start_mono = clock_ns(CLOCK_MONOTONIC);
    meta.start_time_ns = clock_ns(CLOCK_REALTIME);
    meta.first_sample_ns = start_mono;
    if (options_.system_wide || children_.empty()) events_->enable();
    // Existing processes are read from /proc after the events are on, so a process born
    // meanwhile is caught by the scan or by its FORK/COMM records.
    if (!options_.pids.empty() || options_.system_wide) synthesize_from_proc(builder, start_mono);
    try {
        for (ChildProcess& c : children_) c.release();
    } catch (const Error&) {
        // The command could not even start: nothing was recorded, leave no file behind.
        const std::string tmp = writer_->temp_path();
        writer_.reset();
        ::unlink(tmp.c_str());
        throw;
    }

    poll(signals, builder, start_mono);
    return finish(builder, start_mono, cpu_before);
}

}  // namespace detail

RecordSummary record(const RecordOptions& options, PerfSystem& sys, std::FILE* log) {
    detail::Recording r(options, sys, log);
    return r.run();
}

}  // namespace kprof::collector
