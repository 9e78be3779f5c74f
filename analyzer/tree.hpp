// Call trees of one event: top-down (roots are outermost callers, like perf report
// --children's caller view) or bottom-up (roots are leaf functions, their callers
// below). Unlike the call graph, a tree keeps every path: A;B;A is A -> B -> A.
#pragma once

#include <cstdint>
#include <vector>

#include "analyzer/aggregate.hpp"

namespace kprof {

using TreeNodeId = uint32_t;

struct TreeNode {
    FunctionId function = kNoFunction;  // kNoFunction for the root (all samples)
    TreeNodeId parent = 0;              // the root is its own parent
    uint32_t depth = 0;                 // root 0, its children 1 ...
    uint64_t self = 0;   // top-down: stacks ending here; bottom-up: stacks starting here
    uint64_t total = 0;  // stacks through this path
    std::vector<TreeNodeId> children;  // heaviest total first, then by name
};

class CallTree {
  public:
    static CallTree top_down(const AggregatedProfile& profile, size_t event);
    static CallTree bottom_up(const AggregatedProfile& profile, size_t event);

    const AggregatedProfile& profile() const { return *profile_; }
    bool inverted() const { return inverted_; }
    size_t event() const { return event_; }
    static constexpr TreeNodeId root() { return 0; }
    const TreeNode& node(TreeNodeId id) const { return nodes_[id]; }
    size_t size() const { return nodes_.size(); }
    // True where the path crosses between user and kernel (top-down: user -> kernel
    // call, i.e. a system call or fault entry; bottom-up: kernel -> user caller).
    bool crosses_boundary(TreeNodeId id) const;
    // Nodes from the root's child down to id (id last).
    std::vector<TreeNodeId> path_to(TreeNodeId id) const;

  private:
    const AggregatedProfile* profile_ = nullptr;
    size_t event_ = 0;
    bool inverted_ = false;
    std::vector<TreeNode> nodes_;

    static CallTree build(const AggregatedProfile& profile, size_t event, bool inverted);
};

}  // namespace kprof
