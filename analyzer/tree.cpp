#include "analyzer/tree.hpp"

#include <algorithm>
#include <unordered_map>

namespace kprof {

CallTree CallTree::top_down(const AggregatedProfile& profile, size_t event) {
    return build(profile, event, false);
}

CallTree CallTree::bottom_up(const AggregatedProfile& profile, size_t event) {
    return build(profile, event, true);
}

CallTree CallTree::build(const AggregatedProfile& profile, size_t event, bool inverted) {
    CallTree tree;
    tree.profile_ = &profile;
    tree.event_ = event;
    tree.inverted_ = inverted;
    tree.nodes_.emplace_back();
    std::unordered_map<uint64_t, TreeNodeId> child_of;  // (parent << 32 | function) -> node
    const std::vector<uint64_t> weights =
        event < profile.event_count() ? profile.shape_weights() : std::vector<uint64_t>{};
    const size_t ev = profile.event_count();
    for (uint32_t s = 0; s < profile.shape_count() && event < ev; ++s) {
        const uint64_t w = weights[s * ev + event];
        if (w == 0) continue;
        const auto frames = profile.shape_frames(s);
        TreeNodeId node = 0;
        tree.nodes_[0].total += w;
        for (size_t i = 0; i < frames.size(); ++i) {
            const FunctionId f = inverted ? frames[frames.size() - 1 - i] : frames[i];
            const uint64_t key = (uint64_t{node} << 32) | f;
            auto [it, inserted] =
                child_of.try_emplace(key, static_cast<TreeNodeId>(tree.nodes_.size()));
            if (inserted) {
                TreeNode child;
                child.function = f;
                child.parent = node;
                child.depth = tree.nodes_[node].depth + 1;
                tree.nodes_.push_back(std::move(child));
                tree.nodes_[node].children.push_back(it->second);
            }
            node = it->second;
            tree.nodes_[node].total += w;
        }
        tree.nodes_[node].self += w;
    }
    for (TreeNode& n : tree.nodes_) {
        std::sort(n.children.begin(), n.children.end(), [&](TreeNodeId a, TreeNodeId b) {
            const TreeNode &na = tree.nodes_[a], &nb = tree.nodes_[b];
            if (na.total != nb.total) return na.total > nb.total;
            return profile.function(na.function).name < profile.function(nb.function).name;
        });
    }
    return tree;
}

bool CallTree::crosses_boundary(TreeNodeId id) const {
    const TreeNode& n = nodes_[id];
    if (id == root() || n.parent == root()) return false;
    return profile_->function(n.function).kernel !=
           profile_->function(nodes_[n.parent].function).kernel;
}

std::vector<TreeNodeId> CallTree::path_to(TreeNodeId id) const {
    std::vector<TreeNodeId> path;
    for (; id != root(); id = nodes_[id].parent) path.push_back(id);
    std::reverse(path.begin(), path.end());
    return path;
}

}  // namespace kprof
