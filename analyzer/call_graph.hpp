// The weighted call graph KernProf handed to gprof, built from unique stacks: vertices are
// functions, edges caller->callee arcs. Per event it carries self weight (the function is
// the leaf), total weight (the function is anywhere in the stack, counted once per stack
// so A;B;A counts A once) and arc weight (the arc is anywhere in the stack, once per
// stack). Recursion cycles (strongly connected components of more than one function)
// are numbered gprof-style, hottest first: "<cycle 1>".
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <vector>

#include "analyzer/aggregate.hpp"

namespace kprof {

using ArcId = uint32_t;

struct CallGraphVertex {
    FunctionId function = kNoFunction;
};
struct CallGraphEdge {
    ArcId arc = 0;
};
// Vertex descriptor == FunctionId: one vertex per function of the aggregated profile.
using CallGraphBase = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                            CallGraphVertex, CallGraphEdge>;

struct Arc {
    FunctionId caller = kNoFunction;
    FunctionId callee = kNoFunction;
    ArcId id = 0;
    auto operator<=>(const Arc&) const = default;
};

struct Cycle {
    int number = 0;                   // 1-based, as in "<cycle 1>"
    std::vector<FunctionId> members;  // sorted by total weight of the first event, hottest first
};

class CallGraph {
  public:
    // Keeps a reference to `profile`: it must outlive the graph.
    explicit CallGraph(const AggregatedProfile& profile);

    const AggregatedProfile& profile() const { return *profile_; }
    const CallGraphBase& graph() const { return graph_; }
    size_t event_count() const { return events_; }
    size_t function_count() const { return boost::num_vertices(graph_); }

    // True when the function has weight in some event (filters leave others in the table).
    bool present(FunctionId f) const { return present_[f]; }
    uint64_t self(FunctionId f, size_t event) const { return self_[f * events_ + event]; }
    uint64_t total(FunctionId f, size_t event) const { return total_[f * events_ + event]; }
    // Weight of stacks whose outermost frame is f: gprof's <spontaneous> caller.
    uint64_t root_weight(FunctionId f, size_t event) const { return root_[f * events_ + event]; }
    // Weight of all kept samples of the event (the 100% of every percentage).
    uint64_t total_weight(size_t event) const { return profile_->total(event); }

    // Arcs into f (its callers) and out of f (its callees), heaviest first for `event`.
    std::vector<Arc> callers(FunctionId f, size_t event = 0) const;
    std::vector<Arc> callees(FunctionId f, size_t event = 0) const;
    size_t arc_count() const { return arc_ends_.size(); }
    Arc arc(ArcId id) const { return {arc_ends_[id].first, arc_ends_[id].second, id}; }
    uint64_t arc_weight(ArcId id, size_t event) const { return arc_weight_[id * events_ + event]; }
    // Part of the arc weight where the callee is the leaf (gprof's "self" on arc lines);
    // the rest is the callee's children.
    uint64_t arc_self(ArcId id, size_t event) const { return arc_self_[id * events_ + event]; }

    // 0 when f is in no cycle, else its cycle number.
    int cycle_of(FunctionId f) const { return cycle_of_[f]; }
    const std::vector<Cycle>& cycles() const { return cycles_; }
    // The cycle as a whole: total counted once per stack that enters it; self = members' sum.
    uint64_t cycle_total(int number, size_t event) const {
        return cycle_total_[(number - 1) * events_ + event];
    }
    uint64_t cycle_self(int number, size_t event) const;

    // Functions present, hottest total first for `event` (gprof's index order).
    std::vector<FunctionId> by_total(size_t event) const;
    // Functions present, hottest self first (the flat profile's order).
    std::vector<FunctionId> by_self(size_t event) const;

  private:
    const AggregatedProfile* profile_;
    size_t events_;
    CallGraphBase graph_;
    std::vector<bool> present_;
    std::vector<uint64_t> self_, total_, root_;
    std::vector<std::pair<FunctionId, FunctionId>> arc_ends_;
    std::vector<uint64_t> arc_weight_, arc_self_;
    std::vector<int> cycle_of_;
    std::vector<Cycle> cycles_;
    std::vector<uint64_t> cycle_total_;

    void find_cycles();
};

}  // namespace kprof
