#include "analyzer/flame.hpp"

#include <algorithm>

namespace kprof {

FlameLayout flame_layout(const CallTree& tree, uint64_t min_width, TreeNodeId zoom) {
    FlameLayout layout;
    const AggregatedProfile& profile = tree.profile();
    const TreeNode& top = tree.node(zoom);
    layout.total = top.total;
    auto kernel_of = [&](FunctionId f) { return f != kNoFunction && profile.function(f).kernel; };
    layout.frames.push_back(FlameFrame{.function = top.function,
                                       .node = zoom,
                                       .depth = 0,
                                       .x = 0,
                                       .width = top.total,
                                       .self = top.self,
                                       .parent = 0,
                                       .kernel = kernel_of(top.function)});
    // Breadth-first keeps parents before children.
    std::vector<TreeNodeId> children;
    for (uint32_t i = 0; i < layout.frames.size(); ++i) {
        const FlameFrame parent = layout.frames[i];
        children = tree.node(parent.node).children;
        std::sort(children.begin(), children.end(), [&](TreeNodeId a, TreeNodeId b) {
            const Function& fa = profile.function(tree.node(a).function);
            const Function& fb = profile.function(tree.node(b).function);
            return fa.name != fb.name ? fa.name < fb.name : fa.module < fb.module;
        });
        uint64_t x = parent.x;
        for (TreeNodeId c : children) {
            const TreeNode& n = tree.node(c);
            if (n.total >= min_width && n.total > 0) {
                layout.frames.push_back(FlameFrame{.function = n.function,
                                                   .node = c,
                                                   .depth = parent.depth + 1,
                                                   .x = x,
                                                   .width = n.total,
                                                   .self = n.self,
                                                   .parent = i,
                                                   .kernel = kernel_of(n.function)});
                layout.max_depth = std::max(layout.max_depth, parent.depth + 1);
            }
            x += n.total;
        }
    }
    return layout;
}

}  // namespace kprof
