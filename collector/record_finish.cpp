// The end of a recording: the last records drained, the target statuses and the
// collector's CPU time put in the metadata, user frames symbolized, the stacks and the
// trace's end written, and the summary `kprof record` prints filled in.
#include <exception>
#include <string>

#include "collector/recorder_internal.hpp"
#include "symbols/symbolize.hpp"

namespace kprof::collector::detail {

RecordSummary Recording::finish(ProfileBuilder& builder, uint64_t start_mono, double cpu_before) {
    TraceMeta& meta = profile_.meta;
    for (ChildProcess& c : children_) c.reap(true);
    events_->disable();
    drain(builder);
    const uint64_t end_mono = clock_ns(CLOCK_MONOTONIC);
    builder.finalize();

    meta.duration_ns = end_mono - start_mono;
    for (size_t i = 0; i < children_.size(); ++i) {
        const TargetStatus st{child_names_[i], children_[i].pid(), children_[i].exit_code()};
        summary_.targets.push_back(st);
        if (summary_.exit_status == 0 && st.exit_code != 0) summary_.exit_status = st.exit_code;
    }
    meta.exit_status = summary_.exit_status;
    const double cpu_after = process_cpu_seconds();
    meta.collector_cpu_seconds = cpu_after - cpu_before;
    for (const RingBuffer& r : events_->rings()) summary_.corrupt_ring_bytes += r.corrupt_bytes();
    events_.reset();
    if (unwinder_) {
        summary_.dwarf = true;
        summary_.user_stack_size = sampling_.user_stack_size;
        summary_.unwind = unwinder_->stats();
        unwinder_.reset();  // its binaries and CFI are not needed past the last sample
    }

    if (options_.symbolize) {
        try {
            // System-wide, hundreds of processes hit binaries whose DWARF (embedded or in
            // separate debug files) would dominate the recording's own CPU time and
            // memory (libdw keeps what it parsed: ~70 MB for one large -g binary), so -a
            // resolves function names only; file:line and inlined frames are for
            // recordings of a command or workload.
            SymbolizeOptions symbolize;
            symbolize.debug_info = !options_.system_wide;
            if (options_.system_wide)
                symbolize_addresses(profile_, builder.user_addresses(), symbolize);
            else
                symbolize_profile(profile_, symbolize);
        } catch (const std::exception& e) {
            warn(std::string("user-space symbolization failed (") + e.what() +
                 "); user frames stay unresolved");
        }
    }
    try {
        writer_->add_stacks(profile_.stacks);
        writer_->finish(profile_);
    } catch (const Error& e) {
        fail_writing(e);
    }

    summary_.output = options_.output;
    summary_.events = profile_.events;
    summary_.losses = profile_.losses;
    summary_.samples = builder.counters().samples;
    summary_.stacks = profile_.stacks.size();
    summary_.trace_bytes = writer_->bytes_written();
    summary_.seconds = static_cast<double>(meta.duration_ns) / 1e9;
    summary_.collector_cpu_s = meta.collector_cpu_seconds;
    summary_.unknown_records = builder.counters().unknown_records;
    summary_.malformed_records = builder.counters().malformed_records;
    if (builder.counters().unknown_event_samples)
        warn(std::to_string(builder.counters().unknown_event_samples) +
             " samples carried an unknown event id and were dropped");
    return summary_;
}

}  // namespace kprof::collector::detail
