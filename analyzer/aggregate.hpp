// Aggregation: samples collapse to unique (comm, function stack) -> weight per event before
// anything else happens, so every later step costs O(unique stacks), not O(samples).
// Frames are resolved once per unique (ip, address space) and interned into functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "analyzer/filters.hpp"
#include "symbols/resolve.hpp"
#include "trace/profile.hpp"

namespace kprof {

using FunctionId = uint32_t;
inline constexpr FunctionId kNoFunction = UINT32_MAX;

// A function is a (name, module) pair: the same name in two modules is two functions.
struct Function {
    std::string name;    // "tcp_sendmsg", "[unknown]"
    std::string module;  // "[kernel.kallsyms]", "[e1000]", "/usr/lib/.../libc.so.6"
    bool kernel = false;

    auto operator<=>(const Function&) const = default;
};

struct EventTotal {
    std::string name;           // "cpu-clock", "net:net_dev_xmit"
    uint16_t trace_event = 0;   // index into Profile::events
    uint64_t samples = 0;       // samples kept by the filters
    uint64_t weight = 0;        // their weight (samples or summed period)
    uint64_t unattributed = 0;  // weight of kept samples whose stack has no frame left
};

struct AggregateOptions {
    WeightKind weight = WeightKind::samples;
    FilterOptions filters;
    ResolveOptions resolve;
};

// The trace, reduced to what every report needs. Stack frames are root first (caller
// before callee), the opposite of the trace's leaf-first ips.
class AggregatedProfile {
  public:
    // Events kept by the filters, in trace order; "event index" below means into this.
    const std::vector<EventTotal>& events() const { return events_; }
    size_t event_count() const { return events_.size(); }
    // Index of the event named `name`, or -1.
    int find_event(const std::string& name) const;

    const std::vector<Function>& functions() const { return functions_; }
    const Function& function(FunctionId id) const { return functions_[id]; }
    // Functions whose name matches the ECMAScript regex (search, --callers F).
    std::vector<FunctionId> find_functions(const std::string& regex) const;
    // The exact name (first match if several modules have it), or kNoFunction.
    FunctionId find_function(const std::string& name) const;

    // A stack is a (comm, shape) pair; a shape is a unique sequence of functions. Reports
    // that ignore the comm (graph, trees, paths) work per shape: fewer of them.
    size_t stack_count() const { return stack_comm_.size(); }
    std::span<const FunctionId> frames(size_t stack) const {  // root first
        return shape_frames(stack_shape_[stack]);
    }
    size_t shape_count() const { return frame_offset_.size() - 1; }
    uint32_t shape(size_t stack) const { return stack_shape_[stack]; }
    std::span<const FunctionId> shape_frames(uint32_t shape) const {  // root first
        return {frames_.data() + frame_offset_[shape],
                frame_offset_[shape + 1] - frame_offset_[shape]};
    }
    // Weight per shape, summed over its stacks: shape_count() x event_count(), row-major.
    std::vector<uint64_t> shape_weights() const;
    uint64_t weight(size_t stack, size_t event) const {
        return weights_[stack * events_.size() + event];
    }
    uint32_t comm(size_t stack) const { return stack_comm_[stack]; }
    const std::string& comm_name(uint32_t comm) const { return comms_[comm]; }
    const std::vector<std::string>& comms() const { return comms_; }

    // Weight of all kept samples of an event (including those left without frames).
    uint64_t total(size_t event) const { return events_[event].weight; }

    // Descriptive context for report headers.
    WeightKind weight_kind() const { return weight_kind_; }
    const std::string& filters_text() const { return filters_text_; }
    const FilterOptions& filters() const { return filters_; }
    uint64_t lost_samples() const { return lost_samples_; }  // from the trace: never filtered
    uint64_t unresolved_frames() const { return unresolved_frames_; }
    const TraceMeta& meta() const { return meta_; }

    // A copy keeping only the stacks for which keep(stack index) is true (the TUI's
    // focus); events' totals are recomputed.
    template <class Pred>
    AggregatedProfile subset(Pred keep) const;
    AggregatedProfile focus_on(FunctionId function) const;

    class Builder;  // aggregate()'s helper, in aggregate.cpp

  private:
    friend class Builder;
    friend AggregatedProfile aggregate(const Profile& profile, const AggregateOptions& options);
    std::vector<EventTotal> events_;
    std::vector<Function> functions_;
    std::vector<FunctionId> frames_;         // of every shape
    std::vector<uint64_t> frame_offset_{0};  // shape -> its frames in frames_
    std::vector<uint64_t> weights_;          // stack_count x event_count
    std::vector<uint32_t> stack_comm_;
    std::vector<uint32_t> stack_shape_;
    std::vector<std::string> comms_;
    WeightKind weight_kind_ = WeightKind::samples;
    FilterOptions filters_;
    std::string filters_text_ = "none";
    uint64_t lost_samples_ = 0;
    uint64_t unresolved_frames_ = 0;
    TraceMeta meta_;

    AggregatedProfile copy_header() const;
    // shape_map: from's shape -> this one's (UINT32_MAX until the shape is first copied).
    void push_stack_from(const AggregatedProfile& from, size_t stack,
                         std::vector<uint32_t>& shape_map);
};

// Applies the filters, collapses samples to unique stacks, resolves frames and interns
// functions: a SampleFilter (sample_filter.hpp) keeps samples, tally_samples()
// (stack_tally.hpp) sums them per trace stack and comm, and each tallied stack is
// resolved once and passed through a StackFilter (stack_filter.hpp). For folded-stack
// imports (meta.source_format "folded") a sample's period is its count, so --weight
// samples and --weight period agree.
AggregatedProfile aggregate(const Profile& profile, const AggregateOptions& options = {});

template <class Pred>
AggregatedProfile AggregatedProfile::subset(Pred keep) const {
    // Only the kept stacks' shapes are copied: a focus on a small part of a big profile
    // costs what that part does (the TUI's f key).
    AggregatedProfile out = copy_header();
    std::vector<uint32_t> shape_map(shape_count(), UINT32_MAX);
    for (size_t s = 0; s < stack_count(); ++s)
        if (keep(s)) out.push_stack_from(*this, s, shape_map);
    return out;
}

}  // namespace kprof
