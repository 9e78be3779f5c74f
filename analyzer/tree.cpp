#include "analyzer/tree.hpp"

#include <algorithm>

namespace kprof {

LazyTree::LazyTree(const AggregatedProfile& profile, size_t event, bool inverted)
    : profile_(&profile), event_(event), inverted_(inverted) {
    nodes_.emplace_back();
    stacks_.emplace_back();
    if (event_ >= profile.event_count()) {
        nodes_[0].built = true;
        return;
    }
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

const std::vector<TreeNodeId>& LazyTree::children(TreeNodeId id) {
    if (nodes_[id].built) return nodes_[id].children;
    const uint32_t depth = nodes_[id].depth;  // frames[depth] is the child's function
    // Function -> its child node, in a flat table (reset below) rather than a hash map.
    child_of_.resize(profile_->functions().size(), root());
    std::vector<uint32_t> mine = std::move(stacks_[id]);
    stacks_[id] = {};
    std::vector<TreeNodeId> kids;
    for (uint32_t s : mine) {
        const FunctionId f = frame_at(s, depth);
        if (f == kNoFunction) continue;  // ends at this node: its self weight
        TreeNodeId& slot = child_of_[f];
        if (slot == root()) {
            slot = static_cast<TreeNodeId>(nodes_.size());
            TreeNode child;
            child.function = f;
            child.parent = id;
            child.depth = depth + 1;
            nodes_.push_back(std::move(child));
            stacks_.emplace_back();
            kids.push_back(slot);
        }
        const TreeNodeId child = slot;
        TreeNode& c = nodes_[child];
        c.total += weight_[s];
        if (profile_->frames(s).size() == depth + 1) c.self += weight_[s];
        stacks_[child].push_back(s);
    }
    for (TreeNodeId k : kids) child_of_[nodes_[k].function] = root();
    std::sort(kids.begin(), kids.end(), [&](TreeNodeId a, TreeNodeId b) {
        const TreeNode &na = nodes_[a], &nb = nodes_[b];
        if (na.total != nb.total) return na.total > nb.total;
        return profile_->function(na.function).name < profile_->function(nb.function).name;
    });
    nodes_[id].children = std::move(kids);
    nodes_[id].built = true;
    return nodes_[id].children;
}

void LazyTree::build_all() {
    // Node ids grow as children are made: the loop reaches every node.
    for (TreeNodeId id = 0; id < nodes_.size(); ++id) children(id);
    stacks_ = {};
    child_of_ = {};
}

std::vector<TreeNodeId> LazyTree::path_to(TreeNodeId id) const {
    std::vector<TreeNodeId> path;
    for (TreeNodeId n = id; n != root(); n = nodes_[n].parent) path.push_back(n);
    std::reverse(path.begin(), path.end());
    return path;
}

TreeNodeId LazyTree::find_path(std::span<const FunctionId> functions) {
    TreeNodeId at = root();
    for (FunctionId f : functions) {
        TreeNodeId next = root();
        for (TreeNodeId c : children(at))
            if (nodes_[c].function == f) next = c;
        if (next == root()) break;
        at = next;
    }
    return at;
}

bool LazyTree::crosses_boundary(TreeNodeId id) const {
    const TreeNode& n = nodes_[id];
    if (id == root() || n.parent == root()) return false;
    return profile_->function(n.function).kernel !=
           profile_->function(nodes_[n.parent].function).kernel;
}

CallTree CallTree::top_down(const AggregatedProfile& profile, size_t event) {
    return CallTree(LazyTree(profile, event, false));
}

CallTree CallTree::bottom_up(const AggregatedProfile& profile, size_t event) {
    return CallTree(LazyTree(profile, event, true));
}

}  // namespace kprof
