#include "tui/lazy_tree.hpp"

#include <algorithm>

namespace kprof::tui {

LazyTree::LazyTree(const AggregatedProfile& profile, size_t event, bool inverted)
    : profile_(&profile), event_(event), inverted_(inverted) {
    nodes_.emplace_back();
    stacks_.emplace_back();
    if (event_ >= profile.event_count()) return;
    const size_t n = profile.stack_count();
    weight_.resize(n);
    for (size_t s = 0; s < n; ++s) {
        const uint64_t w = profile.weight(s, event_);
        weight_[s] = w;
        if (w == 0 || profile.frames(s).empty()) continue;
        nodes_[0].total += w;
        stacks_[0].push_back(static_cast<uint32_t>(s));
    }
}

FunctionId LazyTree::frame_at(size_t stack, uint32_t depth) const {
    const auto f = profile_->frames(stack);
    if (depth >= f.size()) return kNoFunction;
    return inverted_ ? f[f.size() - 1 - depth] : f[depth];
}

const std::vector<LazyNodeId>& LazyTree::children(LazyNodeId id) {
    if (nodes_[id].built) return nodes_[id].children;
    const uint32_t depth = nodes_[id].depth;  // frames[depth] is the child's function
    // Function -> its child node, in a flat table (reset below) rather than a hash map.
    child_of_.resize(profile_->functions().size(), root());
    std::vector<uint32_t> mine = std::move(stacks_[id]);
    stacks_[id] = {};
    std::vector<LazyNodeId> kids;
    for (uint32_t s : mine) {
        const FunctionId f = frame_at(s, depth);
        if (f == kNoFunction) continue;  // ends at this node: its self weight
        LazyNodeId& slot = child_of_[f];
        if (slot == root()) {
            slot = static_cast<LazyNodeId>(nodes_.size());
            Node child;
            child.function = f;
            child.parent = id;
            child.depth = depth + 1;
            nodes_.push_back(std::move(child));
            stacks_.emplace_back();
            kids.push_back(slot);
        }
        const LazyNodeId child = slot;
        Node& c = nodes_[child];
        c.total += weight_[s];
        if (profile_->frames(s).size() == depth + 1) c.self += weight_[s];
        stacks_[child].push_back(s);
    }
    for (LazyNodeId k : kids) child_of_[nodes_[k].function] = root();
    std::sort(kids.begin(), kids.end(), [&](LazyNodeId a, LazyNodeId b) {
        const Node &na = nodes_[a], &nb = nodes_[b];
        if (na.total != nb.total) return na.total > nb.total;
        return profile_->function(na.function).name < profile_->function(nb.function).name;
    });
    nodes_[id].children = std::move(kids);
    nodes_[id].built = true;
    return nodes_[id].children;
}

std::vector<LazyNodeId> LazyTree::path_to(LazyNodeId id) const {
    std::vector<LazyNodeId> path;
    for (LazyNodeId n = id; n != root(); n = nodes_[n].parent) path.push_back(n);
    std::reverse(path.begin(), path.end());
    return path;
}

LazyNodeId LazyTree::find_path(std::span<const FunctionId> functions) {
    LazyNodeId at = root();
    for (FunctionId f : functions) {
        LazyNodeId next = root();
        for (LazyNodeId c : children(at))
            if (nodes_[c].function == f) next = c;
        if (next == root()) break;
        at = next;
    }
    return at;
}

FlameLayout LazyTree::flame(uint64_t min_width, LazyNodeId zoom) {
    FlameLayout out;
    out.total = nodes_[zoom].total;
    const uint32_t base_depth = nodes_[zoom].depth;
    auto frame_of = [&](LazyNodeId id, uint32_t parent, uint64_t x) {
        const Node& n = nodes_[id];
        FlameFrame f;
        f.function = n.function;
        f.node = id;
        f.depth = n.depth - base_depth;
        f.x = x;
        f.width = n.total;
        f.self = n.self;
        f.parent = parent;
        f.kernel = n.function != kNoFunction && profile_->function(n.function).kernel;
        out.max_depth = std::max(out.max_depth, f.depth);
        out.frames.push_back(f);
    };
    frame_of(zoom, 0, 0);
    // Breadth-first, so parents come before children as in analyzer/flame.hpp.
    for (uint32_t i = 0; i < out.frames.size(); ++i) {
        const LazyNodeId id = out.frames[i].node;
        if (!has_children(id)) continue;
        std::vector<LazyNodeId> kids = children(id);
        std::sort(kids.begin(), kids.end(), [&](LazyNodeId a, LazyNodeId b) {
            return profile_->function(nodes_[a].function).name <
                   profile_->function(nodes_[b].function).name;
        });
        uint64_t x = out.frames[i].x;
        for (LazyNodeId k : kids) {
            if (nodes_[k].total >= std::max<uint64_t>(min_width, 1)) frame_of(k, i, x);
            x += nodes_[k].total;
        }
    }
    return out;
}

}  // namespace kprof::tui
