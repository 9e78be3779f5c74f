#include "analyzer/call_graph.hpp"

#include <algorithm>
#include <boost/graph/strong_components.hpp>
#include <memory>
#include <unordered_map>

#include "analyzer/flat_map.hpp"

namespace kprof {

namespace {

// One caller's outgoing arcs while the graph is built. A stack's arcs are found by
// scanning their caller's short list rather than by hashing into a table of every arc
// (a cache miss per frame on big profiles); callers with many callees (x64_sys_call)
// get an index. Each arc is one record of 1 + 2 * events words, so the scan and the
// weight update touch the same cache lines:
//   [callee | stamp << 32] [weight per event] [self weight per event]
// where the stamp (shape index + 1) makes an arc count once per stack.
class CallerArcs {
  public:
    size_t size() const { return data_.empty() ? 0 : data_.size() / stride_; }

    // The record of the arc to `callee`, appended (with zeroed weights) when new.
    uint64_t* find(FunctionId callee, size_t ev) {
        stride_ = 1 + 2 * ev;
        if (index_) {
            auto [it, inserted] = index_->try_emplace(callee, static_cast<uint32_t>(size()));
            if (inserted) append(callee);
            return record(*it);
        }
        for (uint64_t* r = data_.data(); r != data_.data() + data_.size(); r += stride_)
            if (static_cast<FunctionId>(*r) == callee) return r;
        append(callee);
        if (size() > kScanLimit) {
            index_ = std::make_unique<FlatMap<uint64_t, uint32_t, U64Hash>>(size() * 2);
            for (uint32_t k = 0; k < size(); ++k) index_->try_emplace(callee_of(record(k)), k);
        }
        return record(static_cast<uint32_t>(size() - 1));
    }
    uint64_t* record(uint32_t k) { return data_.data() + size_t{k} * stride_; }
    static FunctionId callee_of(const uint64_t* r) { return static_cast<FunctionId>(*r); }
    static uint32_t stamp_of(const uint64_t* r) { return static_cast<uint32_t>(*r >> 32); }
    static void set_stamp(uint64_t* r, uint32_t stamp) {
        *r = (uint64_t{stamp} << 32) | callee_of(r);
    }

  private:
    static constexpr size_t kScanLimit = 16;
    size_t stride_ = 1;
    std::vector<uint64_t> data_;
    std::unique_ptr<FlatMap<uint64_t, uint32_t, U64Hash>> index_;

    void append(FunctionId callee) {
        data_.push_back(callee);
        data_.resize(data_.size() + stride_ - 1, 0);
    }
};

}  // namespace

namespace {

// The weights of every shape, before they become the graph. Stamps (shape index + 1)
// make each function and each arc count once per stack.
struct ShapeWalk {
    std::vector<uint64_t> self, total, root;  // function x event
    std::vector<CallerArcs> arcs;             // by caller

    void accumulate(const AggregatedProfile& profile, const std::vector<uint64_t>& weights) {
        const size_t n = profile.functions().size();
        const size_t ev = profile.event_count();
        self.assign(n * ev, 0);
        total.assign(n * ev, 0);
        root.assign(n * ev, 0);
        arcs.resize(n);
        std::vector<uint32_t> function_stamp(n, 0);
        auto add = [ev, &weights](uint64_t* row, size_t shape) {
            for (size_t e = 0; e < ev; ++e) row[e] += weights[shape * ev + e];
        };
        const auto shapes = static_cast<uint32_t>(profile.shape_count());
        for (uint32_t s = 0; s < shapes; ++s) {
            const auto frames = profile.shape_frames(s);
            if (frames.empty()) continue;
            bool any = false;
            for (size_t e = 0; e < ev; ++e) any = any || weights[s * ev + e] != 0;
            if (!any) continue;
            const uint32_t stamp = s + 1;
            add(&self[frames.back() * ev], s);
            add(&root[frames.front() * ev], s);
            for (FunctionId f : frames) {
                if (function_stamp[f] == stamp) continue;
                function_stamp[f] = stamp;
                add(&total[f * ev], s);
            }
            for (size_t i = 0; i + 1 < frames.size(); ++i) {
                uint64_t* r = arcs[frames[i]].find(frames[i + 1], ev);
                // The last arc ends in the leaf: that weight is the callee's self through it.
                if (i + 2 == frames.size()) add(r + 1 + ev, s);
                if (CallerArcs::stamp_of(r) == stamp) continue;
                CallerArcs::set_stamp(r, stamp);
                add(r + 1, s);
            }
        }
    }
};

}  // namespace

CallGraph::CallGraph(const AggregatedProfile& profile)
    : profile_(&profile), events_(profile.event_count()) {
    const size_t n = profile.functions().size();
    const size_t ev = events_;
    cycle_of_.assign(n, 0);

    // Work per shape (unique function sequence), whatever comms it was seen under. (Two
    // threads, each on half the shapes, were no faster: each half misses the cache as
    // often, and merging their arcs costs what the split saves.)
    const std::vector<uint64_t> weights = profile.shape_weights();
    ShapeWalk walk;
    walk.accumulate(profile, weights);
    self_ = std::move(walk.self);
    total_ = std::move(walk.total);
    root_ = std::move(walk.root);

    // Arc ids in (caller, callee) order: JSON edges and the graph's edge lists come out
    // sorted, whatever order the stacks came in.
    for (size_t f = 0; f < n; ++f)
        boost::add_vertex(CallGraphVertex{static_cast<FunctionId>(f)}, graph_);
    std::vector<uint32_t> order;
    for (FunctionId caller = 0; caller < n; ++caller) {
        CallerArcs& arcs = walk.arcs[caller];
        order.resize(arcs.size());
        for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
        std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
            return CallerArcs::callee_of(arcs.record(a)) < CallerArcs::callee_of(arcs.record(b));
        });
        for (uint32_t k : order) {
            const uint64_t* r = arcs.record(k);
            const FunctionId callee = CallerArcs::callee_of(r);
            const auto id = static_cast<ArcId>(arc_ends_.size());
            arc_ends_.emplace_back(caller, callee);
            arc_weight_.insert(arc_weight_.end(), r + 1, r + 1 + ev);
            arc_self_.insert(arc_self_.end(), r + 1 + ev, r + 1 + 2 * ev);
            boost::add_edge(caller, callee, CallGraphEdge{id}, graph_);
        }
        arcs = CallerArcs();  // free as we go: big profiles have millions of arcs
    }
    present_.assign(n, false);
    for (size_t f = 0; f < n; ++f)
        for (size_t e = 0; e < ev; ++e)
            if (total_[f * ev + e] != 0) present_[f] = true;
    find_cycles();
}

void CallGraph::find_cycles() {
    const size_t n = function_count();
    if (n == 0) return;
    std::vector<int> component(n, 0);
    const int count = boost::strong_components(
        graph_, boost::make_iterator_property_map(component.begin(),
                                                  boost::get(boost::vertex_index, graph_)));
    std::vector<std::vector<FunctionId>> members(static_cast<size_t>(count));
    for (size_t f = 0; f < n; ++f)
        if (present_[f])
            members[static_cast<size_t>(component[f])].push_back(static_cast<FunctionId>(f));
    auto hotter = [this](FunctionId a, FunctionId b) {
        const uint64_t ta = events_ ? total(a, 0) : 0, tb = events_ ? total(b, 0) : 0;
        if (ta != tb) return ta > tb;
        return profile_->function(a).name < profile_->function(b).name;
    };
    for (auto& m : members) {
        if (m.size() < 2) continue;
        std::sort(m.begin(), m.end(), hotter);
        cycles_.push_back(Cycle{0, std::move(m)});
    }
    // Hottest cycle first: by its hottest member, which sorts first.
    std::sort(cycles_.begin(), cycles_.end(), [&](const Cycle& a, const Cycle& b) {
        return hotter(a.members.front(), b.members.front());
    });
    for (size_t c = 0; c < cycles_.size(); ++c) {
        cycles_[c].number = static_cast<int>(c + 1);
        for (FunctionId f : cycles_[c].members) cycle_of_[f] = cycles_[c].number;
    }
    cycle_total_.assign(cycles_.size() * events_, 0);
    if (cycles_.empty()) return;
    std::vector<size_t> stamp(cycles_.size(), 0);
    const std::vector<uint64_t> weights = profile_->shape_weights();
    for (uint32_t s = 0; s < profile_->shape_count(); ++s) {
        for (FunctionId f : profile_->shape_frames(s)) {
            const int c = cycle_of_[f];
            if (c == 0 || stamp[static_cast<size_t>(c - 1)] == s + 1) continue;
            stamp[static_cast<size_t>(c - 1)] = s + 1;
            for (size_t e = 0; e < events_; ++e)
                cycle_total_[static_cast<size_t>(c - 1) * events_ + e] += weights[s * events_ + e];
        }
    }
}

uint64_t CallGraph::cycle_self(int number, size_t event) const {
    uint64_t sum = 0;
    for (FunctionId f : cycles_[static_cast<size_t>(number - 1)].members) sum += self(f, event);
    return sum;
}

std::vector<Arc> CallGraph::callers(FunctionId f, size_t event) const {
    std::vector<Arc> out;
    for (auto [it, end] = boost::in_edges(f, graph_); it != end; ++it) {
        const ArcId id = graph_[*it].arc;
        if (arc_weight(id, event) != 0) out.push_back(arc(id));
    }
    std::sort(out.begin(), out.end(), [&](const Arc& a, const Arc& b) {
        const uint64_t wa = arc_weight(a.id, event), wb = arc_weight(b.id, event);
        return wa != wb ? wa > wb : a.caller < b.caller;
    });
    return out;
}

std::vector<Arc> CallGraph::callees(FunctionId f, size_t event) const {
    std::vector<Arc> out;
    for (auto [it, end] = boost::out_edges(f, graph_); it != end; ++it) {
        const ArcId id = graph_[*it].arc;
        if (arc_weight(id, event) != 0) out.push_back(arc(id));
    }
    std::sort(out.begin(), out.end(), [&](const Arc& a, const Arc& b) {
        const uint64_t wa = arc_weight(a.id, event), wb = arc_weight(b.id, event);
        return wa != wb ? wa > wb : a.callee < b.callee;
    });
    return out;
}

std::vector<FunctionId> CallGraph::by_total(size_t event) const {
    std::vector<FunctionId> out;
    for (FunctionId f = 0; f < function_count(); ++f)
        if (present_[f] && total(f, event) != 0) out.push_back(f);
    std::sort(out.begin(), out.end(), [&](FunctionId a, FunctionId b) {
        if (total(a, event) != total(b, event)) return total(a, event) > total(b, event);
        if (self(a, event) != self(b, event)) return self(a, event) > self(b, event);
        return profile_->function(a).name < profile_->function(b).name;
    });
    return out;
}

std::vector<FunctionId> CallGraph::by_self(size_t event) const {
    std::vector<FunctionId> out;
    for (FunctionId f = 0; f < function_count(); ++f)
        if (present_[f] && total(f, event) != 0) out.push_back(f);
    std::sort(out.begin(), out.end(), [&](FunctionId a, FunctionId b) {
        if (self(a, event) != self(b, event)) return self(a, event) > self(b, event);
        if (total(a, event) != total(b, event)) return total(a, event) > total(b, event);
        return profile_->function(a).name < profile_->function(b).name;
    });
    return out;
}

}  // namespace kprof
