#pragma once

#include <vector>

#include "tui/session.hpp"

namespace kprof::tui {

// 't': the call tree, top-down (callers first) or inverted ('i', bottom-up from the leaf
// functions), with nodes expanded and collapsed one at a time or along the hottest path.
class TreeView : public View {
  public:
    explicit TreeView(Session& session, bool inverted = false);

    std::string title() const override;
    std::string status() const override;
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;
    std::optional<FunctionRef> current_function() const override;
    void refresh() override;

    // Expands the path to the heaviest node of `function` and puts the cursor on it.
    bool reveal(FunctionId function);

    // For tests and the benchmark.
    bool inverted() const { return inverted_; }
    const std::vector<TreeNodeId>& visible() const { return visible_; }
    size_t cursor() const { return cursor_.cursor(); }
    bool expanded(TreeNodeId node) const { return node < expanded_.size() && expanded_[node]; }
    const LazyTree& tree() const { return *tree_; }
    void expand(TreeNodeId node, bool on);
    void expand_hottest(TreeNodeId node);

  private:
    void reset_tree();
    void flatten(std::optional<TreeNodeId> keep);
    void set_expanded(TreeNodeId node, bool on);
    void select(TreeNodeId node);

    Session& session_;
    bool inverted_;
    LazyTree* tree_ = nullptr;
    std::vector<bool> expanded_;  // per tree node: view state, kept out of the tree
    std::vector<TreeNodeId> visible_;
    ListCursor cursor_;
};

}  // namespace kprof::tui
