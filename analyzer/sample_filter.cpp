#include "analyzer/sample_filter.hpp"

#include <fmt/format.h>

#include <limits>

#include "trace/error.hpp"

namespace kprof {

EventSelection::EventSelection(const std::vector<EventDesc>& trace_events,
                               const std::vector<std::string>& names)
    : slot_(trace_events.size(), -1) {
    for (const std::string& name : names) {
        bool found = false;
        for (const EventDesc& e : trace_events) found = found || e.name == name;
        if (!found) {
            std::string have;
            for (const EventDesc& e : trace_events) have += (have.empty() ? "" : ", ") + e.name;
            throw Error(fmt::format("--event {}: the trace has no such event (it has: {})", name,
                                    have.empty() ? "none" : have));
        }
    }
    for (size_t i = 0; i < trace_events.size(); ++i) {
        const std::string& name = trace_events[i].name;
        if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
        slot_[i] = static_cast<int>(kept_.size());
        kept_.push_back(static_cast<uint16_t>(i));
    }
}

TimeWindow::TimeWindow(const std::optional<TimeRange>& range, const Profile& profile)
    : all_(!range) {
    if (!range || profile.samples.empty()) return;
    uint64_t last = 0;
    first_ns_ = std::numeric_limits<uint64_t>::max();
    for (const Sample& s : profile.samples) {
        first_ns_ = std::min(first_ns_, s.time_ns);
        last = std::max(last, s.time_ns);
    }
    if (profile.meta.first_sample_ns != 0)
        first_ns_ = std::min(first_ns_, profile.meta.first_sample_ns);
    const double span = static_cast<double>(last - first_ns_);
    const double scale = range->percent ? span / 100.0 : 1e9;
    lo_ = range->start * scale;
    if (range->end >= 0 && !(range->percent && range->end >= 100)) hi_ = range->end * scale;
}

ThreadComms::ThreadComms(const std::vector<Thread>& threads) {
    std::unordered_map<std::string, uint32_t> ids;
    auto intern = [&](const std::string& comm) {
        auto [it, inserted] = ids.try_emplace(comm, static_cast<uint32_t>(names_.size()));
        if (inserted) names_.push_back(comm);
        return it->second;
    };
    for (const Thread& t : threads) comm_of_tid_[t.tid] = intern(t.comm);
    unknown_ = intern("[unknown]");
}

SampleFilter::SampleFilter(const Profile& profile, const FilterOptions& filters)
    : events_(profile.events, filters.events),
      time_(filters.time, profile),
      comms_(profile.threads),
      cpus_(filters.cpus),
      pids_(filters.pids),
      tids_(filters.tids),
      last_comm_(comms_.unknown()) {
    if (filters.comms.empty()) return;
    for (const std::string& comm : comms_.names())
        comm_kept_.push_back(std::find(filters.comms.begin(), filters.comms.end(), comm) !=
                             filters.comms.end());
}

}  // namespace kprof
