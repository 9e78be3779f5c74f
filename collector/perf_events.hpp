// Opens the recording's perf events — one per CPU per event type (per target task, for
// task targets) — and their per-CPU ring buffers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/events.hpp"
#include "collector/perf_system.hpp"
#include "collector/records.hpp"
#include "collector/ring_buffer.hpp"

namespace kprof::collector {

struct SamplingOptions {
    std::vector<EventSpec> events;
    uint64_t freq = 999;         // -F
    bool freq_explicit = false;  // -F was given (then tracepoints sample by frequency too)
    uint64_t period = 0;         // -c: when nonzero every event samples every PERIOD events
    bool callgraph = true;
    // --call-graph dwarf: user stacks are unwound from a copy of the user registers and
    // stack taken with each sample, not from the frame pointer chain the kernel walks.
    bool dwarf = false;
    uint32_t user_stack_size = 8192;  // bytes of user stack copied per sample (dwarf)
    uint32_t max_stack = 127;
    bool user_only = false;   // exclude_kernel: what unprivileged users may still record
    size_t ring_pages = 128;  // data pages per CPU ring, a power of two
    bool inherit = false;     // follow children of task targets
    bool enable_on_exec = false;
};

// --call-graph MODE, spelled as perf spells it: "fp" (frame pointers, the default) or
// "fp,N" (and at most N frames), "dwarf" or "dwarf,SIZE" (SIZE rounded up to 8 bytes).
// Throws Error naming the supported modes for anything else ("lbr" needs a PMU with last
// branch records, which kprof does not use).
void parse_call_graph(std::string_view mode, SamplingOptions& options);

struct EventSampling {
    bool use_freq = true;
    uint64_t value = 0;  // Hz or period
};

// Tracepoints sample every hit (period 1) unless -c or -F says otherwise; the rest
// sample at -F HZ unless -c is given.
EventSampling sampling_for(const EventSpec& event, const SamplingOptions& options);

// The attr for one event; `tracking` asks for the side-band records (COMM, MMAP2,
// FORK/EXIT), which one event per CPU and task is enough to carry.
perf_event_attr make_attr(const EventSpec& event, const SamplingOptions& options, bool tracking);
SampleLayout sample_layout(const SamplingOptions& options);

class PerfEventSet {
  public:
    // pids empty: system-wide (pid -1 on every CPU). Throws Error with advice on failure;
    // whatever was opened is closed again.
    PerfEventSet(PerfSystem& sys, const SamplingOptions& options, const std::vector<pid_t>& pids,
                 const std::vector<uint32_t>& cpus, size_t page_size);
    ~PerfEventSet();
    PerfEventSet(const PerfEventSet&) = delete;
    PerfEventSet& operator=(const PerfEventSet&) = delete;

    void enable();
    void disable();
    std::vector<RingBuffer>& rings() { return rings_; }
    // The event index (into options.events) of a sample or record id; -1 if unknown.
    int event_of(uint64_t id) const;
    const std::unordered_map<uint64_t, int>& event_ids() const { return event_by_id_; }
    size_t fd_count() const { return fds_.size(); }

  private:
    PerfSystem& sys_;
    std::vector<PerfFd> fds_;
    std::vector<RingBuffer> rings_;
    std::unordered_map<uint64_t, int> event_by_id_;
};

// Online CPUs from /sys/devices/system/cpu/online ("0-3,6").
std::vector<uint32_t> online_cpus();
std::vector<uint32_t> parse_cpu_list(std::string_view text);

}  // namespace kprof::collector
