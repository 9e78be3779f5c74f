// Call trees of one event: top-down (roots are outermost callers, like perf report
// --children's caller view) or bottom-up (roots are leaf functions, their callers
// below). Unlike the call graph, a tree keeps every path: A;B;A is A -> B -> A.
//
// LazyTree makes a node's children when they are first asked for, from the stacks
// through that node: expanding costs O(stacks under the node). The TUI only ever shows
// the expanded part of a tree that, for 100k deep stacks, has millions of nodes.
// CallTree is a LazyTree with every node built, for reports that print it all.
#pragma once

#include <cstdint>
#include <span>
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
    bool built = false;  // children made (LazyTree::children)
    std::vector<TreeNodeId> children;  // heaviest total first, then by name; once built
};

class LazyTree {
  public:
    // top-down: roots are outermost callers; inverted: roots are leaf functions. Keeps a
    // reference to `profile`: it must outlive the tree.
    LazyTree(const AggregatedProfile& profile, size_t event, bool inverted);

    const AggregatedProfile& profile() const { return *profile_; }
    bool inverted() const { return inverted_; }
    size_t event() const { return event_; }
    static constexpr TreeNodeId root() { return 0; }
    const TreeNode& node(TreeNodeId id) const { return nodes_[id]; }
    size_t size() const { return nodes_.size(); }
    bool has_children(TreeNodeId id) const { return nodes_[id].total > nodes_[id].self; }
    // Builds the node's children if needed.
    const std::vector<TreeNodeId>& children(TreeNodeId id);
    // Builds every node (what CallTree is).
    void build_all();
    // Nodes from the root's child down to id (id last).
    std::vector<TreeNodeId> path_to(TreeNodeId id) const;
    // Follows `functions` (outermost first for top-down) from the root; returns the last
    // node reached, or root() if the first function is not a root.
    TreeNodeId find_path(std::span<const FunctionId> functions);
    // True where the path crosses between user and kernel (top-down: user -> kernel
    // call, i.e. a system call or fault entry; bottom-up: kernel -> user caller).
    bool crosses_boundary(TreeNodeId id) const;

  private:
    FunctionId frame_at(size_t stack, uint32_t depth) const;

    const AggregatedProfile* profile_;
    size_t event_;
    bool inverted_;
    std::vector<TreeNode> nodes_;
    // Unique stacks through each unbuilt node (each stack is in exactly one such list:
    // building a node hands its list out to its children).
    std::vector<std::vector<uint32_t>> stacks_;
    std::vector<uint64_t> weight_;      // per aggregated stack, of the event
    std::vector<TreeNodeId> child_of_;  // scratch for children(): root() = none
};

class CallTree {
  public:
    static CallTree top_down(const AggregatedProfile& profile, size_t event);
    static CallTree bottom_up(const AggregatedProfile& profile, size_t event);

    const AggregatedProfile& profile() const { return tree_.profile(); }
    bool inverted() const { return tree_.inverted(); }
    size_t event() const { return tree_.event(); }
    static constexpr TreeNodeId root() { return LazyTree::root(); }
    const TreeNode& node(TreeNodeId id) const { return tree_.node(id); }
    size_t size() const { return tree_.size(); }
    bool crosses_boundary(TreeNodeId id) const { return tree_.crosses_boundary(id); }
    std::vector<TreeNodeId> path_to(TreeNodeId id) const { return tree_.path_to(id); }

  private:
    explicit CallTree(LazyTree tree) : tree_(std::move(tree)) { tree_.build_all(); }
    LazyTree tree_;
};

}  // namespace kprof
