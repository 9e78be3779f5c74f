// A call tree whose nodes are made when they are first expanded. The analyzer's CallTree
// builds every path of every stack up front (millions of nodes for 100k deep stacks,
// seconds of work); the TUI only ever shows the expanded part, so it builds children on
// demand from the stacks through a node: expanding costs O(stacks under the node).
// Same numbers as CallTree (tests compare them): total counts a stack once per node of
// its path, self where the stack ends.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analyzer/aggregate.hpp"
#include "analyzer/flame.hpp"

namespace kprof::tui {

using LazyNodeId = uint32_t;

class LazyTree {
  public:
    struct Node {
        FunctionId function = kNoFunction;  // kNoFunction for the root
        LazyNodeId parent = 0;
        uint32_t depth = 0;  // root 0
        uint64_t self = 0;
        uint64_t total = 0;
        bool built = false;                // children computed
        std::vector<LazyNodeId> children;  // heaviest first, then by name; once built
    };

    // top-down: roots are outermost callers; inverted: roots are leaf functions.
    LazyTree(const AggregatedProfile& profile, size_t event, bool inverted);

    bool inverted() const { return inverted_; }
    static constexpr LazyNodeId root() { return 0; }
    const Node& node(LazyNodeId id) const { return nodes_[id]; }
    size_t size() const { return nodes_.size(); }
    bool has_children(LazyNodeId id) const { return nodes_[id].total > nodes_[id].self; }
    // Builds the node's children if needed.
    const std::vector<LazyNodeId>& children(LazyNodeId id);
    // The root's child down to id.
    std::vector<LazyNodeId> path_to(LazyNodeId id) const;
    // Follows `functions` (outermost first for top-down) from the root; returns the last
    // node reached, or root() if the first function is not a root.
    LazyNodeId find_path(std::span<const FunctionId> functions);

    // Flame layout (as analyzer/flame.hpp: x and width in weight units, siblings by
    // name), made of nodes of at least min_width; builds what it visits.
    FlameLayout flame(uint64_t min_width, LazyNodeId zoom = root());

  private:
    FunctionId frame_at(size_t stack, uint32_t depth) const;

    const AggregatedProfile* profile_;
    size_t event_;
    bool inverted_;
    std::vector<Node> nodes_;
    // Unique stacks through each unbuilt node (each stack is in exactly one such list:
    // building a node hands its list out to its children).
    std::vector<std::vector<uint32_t>> stacks_;
    std::vector<uint64_t> weight_;      // per aggregated stack, of the event
    std::vector<LazyNodeId> child_of_;  // scratch for children(): root() = none
};

}  // namespace kprof::tui
