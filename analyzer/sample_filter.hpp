// Which samples of a trace count, decided per sample before any frame is resolved: the
// events kept (EventSelection) and a sample's cpu, pid, tid, comm and time
// (SampleFilter). `kprof report` and `kprof tui` decide through aggregate(); a live view
// asks the same SampleFilter about each sample it reads. Frame filters (kernel or user
// only, focus, ignore, hide) need resolved frames: StackFilter, in stack_filter.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "analyzer/filters.hpp"
#include "trace/profile.hpp"

namespace kprof {

// The events a report keeps (-e NAME ...; none given: all), in trace order.
class EventSelection {
  public:
    // Throws Error, naming the events the trace has, for a name it does not have.
    EventSelection(const std::vector<EventDesc>& trace_events,
                   const std::vector<std::string>& names);

    // Trace event index (into Profile::events) of each kept event, in trace order.
    const std::vector<uint16_t>& kept() const { return kept_; }
    size_t size() const { return kept_.size(); }
    // Index into kept() of trace event `event`; -1 when it is not kept or not in the trace.
    int slot(uint32_t event) const { return event < slot_.size() ? slot_[event] : -1; }

  private:
    std::vector<uint16_t> kept_;
    std::vector<int> slot_;  // trace event -> index into kept_, or -1
};

// --time placed on a trace's clock: relative to its first sample (or the recording's
// start, if earlier), [start, end), or [start, last sample] when it runs to the end.
class TimeWindow {
  public:
    TimeWindow() = default;  // all of the trace
    TimeWindow(const std::optional<TimeRange>& range, const Profile& profile);

    bool contains(uint64_t time_ns) const {
        if (all_) return true;
        const double rel = static_cast<double>(time_ns - std::min(time_ns, first_ns_));
        return rel >= lo_ && (hi_ < 0 || rel < hi_);
    }

  private:
    bool all_ = true;
    uint64_t first_ns_ = 0;
    double lo_ = 0, hi_ = -1;  // ns from first_ns_; hi_ < 0: to the end
};

// Thread names as comm ids: ids in order of first appearance among the trace's threads,
// then "[unknown]" for threads the trace does not name. The last thread entry of a tid
// wins: tids are reused.
class ThreadComms {
  public:
    explicit ThreadComms(const std::vector<Thread>& threads);

    const std::vector<std::string>& names() const { return names_; }
    uint32_t of(uint32_t tid) const {
        const auto it = comm_of_tid_.find(tid);
        return it == comm_of_tid_.end() ? unknown_ : it->second;
    }
    uint32_t unknown() const { return unknown_; }

  private:
    std::vector<std::string> names_;
    std::unordered_map<uint32_t, uint32_t> comm_of_tid_;
    uint32_t unknown_ = 0;
};

// Where a kept sample counts: its event (index into EventSelection::kept()) and comm.
struct KeptSample {
    size_t event = 0;
    uint32_t comm = 0;
    bool operator==(const KeptSample&) const = default;
};

// FilterOptions' sample filters (events, cpus, pids, tids, comms, time) on one trace.
class SampleFilter {
  public:
    // Throws Error for an event the trace does not have.
    SampleFilter(const Profile& profile, const FilterOptions& filters);

    const EventSelection& events() const { return events_; }
    const ThreadComms& comms() const { return comms_; }
    const TimeWindow& time() const { return time_; }

    // Where `s` counts, or nullopt when a filter drops it. Not const: it remembers the
    // last thread's comm, as samples come in runs of one thread.
    std::optional<KeptSample> keep(const Sample& s) {
        const int ev = events_.slot(s.event);
        if (ev < 0) return std::nullopt;
        if (!time_.contains(s.time_ns)) return std::nullopt;
        if (!allowed(cpus_, s.cpu) || !allowed(pids_, s.pid) || !allowed(tids_, s.tid))
            return std::nullopt;
        if (s.tid != last_tid_) {
            last_tid_ = s.tid;
            last_comm_ = comms_.of(s.tid);
        }
        if (!comm_kept_.empty() && !comm_kept_[last_comm_]) return std::nullopt;
        return KeptSample{static_cast<size_t>(ev), last_comm_};
    }

  private:
    EventSelection events_;
    TimeWindow time_;
    ThreadComms comms_;
    std::vector<uint32_t> cpus_, pids_, tids_;  // empty: all
    std::vector<uint8_t> comm_kept_;            // comm id -> kept by --comm; empty: all
    uint32_t last_tid_ = UINT32_MAX;
    uint32_t last_comm_ = 0;

    static bool allowed(const std::vector<uint32_t>& ids, uint32_t id) {
        return ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end();
    }
};

}  // namespace kprof
