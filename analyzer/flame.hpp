// Flame graph layout of a top-down call tree, in weight units: a frame's x and width are
// weights (the root spans [0, total)). Siblings are ordered by name, as flamegraph.pl
// does, so that layouts of two recordings line up. Renderers (SVG, terminal) scale.
#pragma once

#include <cstdint>
#include <vector>

#include "analyzer/tree.hpp"

namespace kprof {

struct FlameFrame {
    FunctionId function = kNoFunction;  // kNoFunction: the "all" root frame
    TreeNodeId node = 0;                // the tree node it draws
    uint32_t depth = 0;                 // 0 = the root frame
    uint64_t x = 0;
    uint64_t width = 0;  // the node's total
    uint64_t self = 0;
    uint32_t parent = 0;  // index into FlameLayout::frames (the root is its own parent)
    bool kernel = false;
};

struct FlameLayout {
    std::vector<FlameFrame> frames;  // parents before children
    uint64_t total = 0;
    uint32_t max_depth = 0;
};

// Frames narrower than min_width (in weight units) are dropped with their subtrees.
// Zooming: pass a node to lay out only its subtree (it becomes the frame at depth 0).
FlameLayout flame_layout(const CallTree& tree, uint64_t min_width = 0,
                         TreeNodeId zoom = CallTree::root());
// The same layout of a top-down LazyTree, building only the nodes it draws.
FlameLayout flame_layout(LazyTree& tree, uint64_t min_width = 0,
                         TreeNodeId zoom = LazyTree::root());

}  // namespace kprof
