// The internals of one `kprof record` run, shared by the collector/record_*.cpp files:
// the Recording class, which starts or attaches to the target, opens the events, drains
// the rings into the trace model and the trace file, and finishes the trace; and the
// option helpers it uses. Not part of the collector's API (that is recorder.hpp).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/events.hpp"
#include "collector/perf_events.hpp"
#include "collector/perf_system.hpp"
#include "collector/profile_builder.hpp"
#include "collector/recorder.hpp"
#include "collector/records.hpp"
#include "collector/target.hpp"
#include "symbols/unwind.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace kprof::collector::detail {

class SignalRedirect;

inline uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Option helpers (record_options.cpp).
// Throws Error for options that cannot work, before any process or file is made.
void validate_options(const RecordOptions& options);
std::string join(const std::vector<std::string>& items, const char* sep);
// The -e names resolved to events (cpu-clock when none is given); each once.
std::vector<EventSpec> resolve_events(const RecordOptions& options);
void check_limits(SamplingOptions& s, PerfSystem& sys);
// What the trace's metadata calls the target: "workload socket", "pid 42", "system".
std::string target_description(const RecordOptions& o);

class Recording {
  public:
    Recording(const RecordOptions& options, PerfSystem& sys, std::FILE* log)
        : options_(options), sys_(sys), log_(log) {}

    RecordSummary run();  // recorder.cpp

  private:
    void warn(const std::string& msg) {
        summary_.warnings.push_back(msg);
        if (log_) std::fprintf(log_, "kprof record: warning: %s\n", msg.c_str());
    }
    // The targets (record_targets.cpp).
    void start_children(const sigset_t& child_mask);
    std::vector<pid_t> event_pids();
    void synthesize_from_proc(ProfileBuilder& builder, uint64_t now);
    // Waits for and drains records until the recording stops (record_loop.cpp).
    void poll(SignalRedirect& signals, ProfileBuilder& builder, uint64_t start_mono);
    // Stops the events and writes the trace's end (record_finish.cpp).
    RecordSummary finish(ProfileBuilder& builder, uint64_t start_mono, double cpu_before);
    // The sample sink: rings -> builder -> trace file (record_sink.cpp).
    void drain(ProfileBuilder& builder);
    void flush(ProfileBuilder& builder);
    bool children_done() {
        for (ChildProcess& c : children_) c.reap(false);
        return std::all_of(children_.begin(), children_.end(),
                           [](const ChildProcess& c) { return c.exited(); });
    }
    void signal_children(int sig) {
        for (ChildProcess& c : children_) c.kill(sig);
    }
    [[noreturn]] void fail_writing(const Error& e);  // record_sink.cpp

    const RecordOptions& options_;
    PerfSystem& sys_;
    std::FILE* log_;
    SamplingOptions sampling_;
    std::vector<uint32_t> cpus_;
    std::vector<ChildProcess> children_;
    std::vector<std::string> child_names_;
    std::unique_ptr<PerfEventSet> events_;
    std::unique_ptr<UserUnwinder> unwinder_;  // --call-graph dwarf
    std::optional<TraceWriter> writer_;
    uint64_t last_sync_ns_ = 0;
    Profile profile_;
    RecordSummary summary_;
    SampleLayout layout_;

    // One drain round's records, copied out of the rings so they can be put in time
    // order across CPUs before they update threads, generations and mappings.
    struct Pending {
        uint64_t time;
        size_t offset;
        size_t size;
        uint32_t cpu;
    };
    std::vector<uint8_t> arena_;
    std::vector<Pending> pending_;
};

}  // namespace kprof::collector::detail
