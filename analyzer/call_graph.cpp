#include "analyzer/call_graph.hpp"

#include <algorithm>
#include <boost/graph/strong_components.hpp>
#include <unordered_map>

#include "analyzer/flat_map.hpp"

namespace kprof {

CallGraph::CallGraph(const AggregatedProfile& profile)
    : profile_(&profile), events_(profile.event_count()) {
    const size_t n = profile.functions().size();
    const size_t ev = events_;
    for (size_t f = 0; f < n; ++f)
        boost::add_vertex(CallGraphVertex{static_cast<FunctionId>(f)}, graph_);
    present_.assign(n, false);
    self_.assign(n * ev, 0);
    total_.assign(n * ev, 0);
    root_.assign(n * ev, 0);
    cycle_of_.assign(n, 0);

    // Work per shape (unique function sequence), whatever comms it was seen under.
    // Stamps (shape index + 1) make each function and each arc count once per stack.
    const std::vector<uint64_t> weights = profile.shape_weights();
    std::vector<size_t> function_stamp(n, 0);
    std::vector<size_t> arc_stamp;
    FlatMap<uint64_t, ArcId, U64Hash> arc_ids(profile.shape_count() * 4);
    auto add = [ev, &weights](std::vector<uint64_t>& v, size_t row, size_t shape) {
        for (size_t e = 0; e < ev; ++e) v[row * ev + e] += weights[shape * ev + e];
    };
    for (uint32_t s = 0; s < profile.shape_count(); ++s) {
        const auto frames = profile.shape_frames(s);
        if (frames.empty()) continue;
        bool any = false;
        for (size_t e = 0; e < ev; ++e) any = any || weights[s * ev + e] != 0;
        if (!any) continue;
        const size_t stamp = s + 1;
        add(self_, frames.back(), s);
        add(root_, frames.front(), s);
        for (FunctionId f : frames) {
            if (function_stamp[f] == stamp) continue;
            function_stamp[f] = stamp;
            add(total_, f, s);
        }
        ArcId arc = 0;
        for (size_t i = 0; i + 1 < frames.size(); ++i) {
            const uint64_t key = (uint64_t{frames[i]} << 32) | frames[i + 1];
            auto [it, inserted] = arc_ids.try_emplace(key, static_cast<ArcId>(arc_ends_.size()));
            arc = *it;
            if (inserted) {
                arc_ends_.emplace_back(frames[i], frames[i + 1]);
                arc_stamp.push_back(0);
                arc_weight_.resize(arc_weight_.size() + ev, 0);
                arc_self_.resize(arc_self_.size() + ev, 0);
                boost::add_edge(frames[i], frames[i + 1], CallGraphEdge{arc}, graph_);
            }
            if (arc_stamp[arc] == stamp) continue;
            arc_stamp[arc] = stamp;
            add(arc_weight_, arc, s);
        }
        // The last arc ends in the leaf: that weight is the callee's self through it.
        if (frames.size() >= 2) add(arc_self_, arc, s);
    }
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
