#include "analyzer/flame.hpp"

#include <algorithm>

namespace kprof {
namespace {

// One layout for both trees; children_of(id) gives a node's children, building them in
// a LazyTree. Frames narrower than min_width are not drawn, so their subtrees are
// never built.
template <class Tree, class Children>
FlameLayout layout_of(const Tree& tree, uint64_t min_width, TreeNodeId zoom, Children children_of) {
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
        children = children_of(parent.node);
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

}  // namespace

FlameLayout flame_layout(const CallTree& tree, uint64_t min_width, TreeNodeId zoom) {
    return layout_of(tree, min_width, zoom, [&](TreeNodeId id) { return tree.node(id).children; });
}

FlameLayout flame_layout(LazyTree& tree, uint64_t min_width, TreeNodeId zoom) {
    return layout_of(tree, min_width, zoom, [&](TreeNodeId id) {
        return tree.has_children(id) ? tree.children(id) : std::vector<TreeNodeId>{};
    });
}

}  // namespace kprof
