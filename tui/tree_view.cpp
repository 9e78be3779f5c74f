#include "tui/tree_view.hpp"

#include <algorithm>

#include "analyzer/paths.hpp"
#include "tui/text.hpp"

namespace kprof::tui {

TreeView::TreeView(Session& session, bool inverted) : session_(session), inverted_(inverted) {
    reset_tree();
}

void TreeView::reset_tree() {
    tree_ = &session_.tree(inverted_);
    expanded_.assign(tree_->size(), false);
    set_expanded(LazyTree::root(), true);
    flatten(std::nullopt);
    cursor_.set(0, visible_.size());
}

void TreeView::refresh() {
    // The session's trees were rebuilt: node ids changed, so keep only the function.
    const auto f = current_function();
    reset_tree();
    if (f) reveal(*f);
}

std::string TreeView::title() const {
    return inverted_ ? "Call tree, inverted (callees first, callers below)"
                     : "Call tree (callers first, callees below)";
}

std::string TreeView::status() const {
    return "Enter/+/-: expand  E: hottest path  i: invert  o: open";
}

std::optional<FunctionRef> TreeView::current_function() const {
    if (visible_.empty()) return std::nullopt;
    const FunctionId f = tree_->node(visible_[cursor_.cursor()]).function;
    if (f == kNoFunction) return std::nullopt;
    return f;
}

void TreeView::set_expanded(TreeNodeId node, bool on) {
    if (on) tree_->children(node);  // make the children before showing them
    if (expanded_.size() < tree_->size()) expanded_.resize(tree_->size(), false);
    expanded_[node] = on;
}

void TreeView::flatten(std::optional<TreeNodeId> keep) {
    visible_.clear();
    // Depth-first over expanded nodes; the root (all samples) is not shown.
    std::vector<TreeNodeId> stack;
    const auto& root_children = tree_->children(LazyTree::root());
    for (auto it = root_children.rbegin(); it != root_children.rend(); ++it) stack.push_back(*it);
    while (!stack.empty()) {
        const TreeNodeId n = stack.back();
        stack.pop_back();
        visible_.push_back(n);
        if (!expanded(n)) continue;
        const auto& ch = tree_->node(n).children;
        for (auto it = ch.rbegin(); it != ch.rend(); ++it) stack.push_back(*it);
    }
    if (expanded_.size() < tree_->size()) expanded_.resize(tree_->size(), false);
    if (keep) select(*keep);
}

void TreeView::select(TreeNodeId node) {
    const auto it = std::find(visible_.begin(), visible_.end(), node);
    if (it != visible_.end())
        cursor_.set(static_cast<size_t>(it - visible_.begin()), visible_.size());
}

void TreeView::expand(TreeNodeId node, bool on) {
    if (expanded(node) == on || (on && !tree_->has_children(node))) return;
    set_expanded(node, on);
    const auto keep = visible_.empty() ? std::nullopt : std::optional(visible_[cursor_.cursor()]);
    flatten(keep);
}

void TreeView::expand_hottest(TreeNodeId node) {
    // Children are heaviest first: follow the first child down to a leaf.
    for (TreeNodeId n = node; tree_->has_children(n); n = tree_->node(n).children.front())
        set_expanded(n, true);
    flatten(node);
}

bool TreeView::reveal(FunctionId function) {
    TreeNodeId found = LazyTree::root();
    if (inverted_) {
        for (TreeNodeId c : tree_->children(LazyTree::root()))
            if (tree_->node(c).function == function) found = c;
    } else {
        // The hottest path to the function (analyzer/paths.hpp) leads to its node.
        const auto paths = hottest_paths(session_.aggregated(), function,
                                         PathOptions{.event = session_.event(), .limit = 1});
        if (!paths.empty()) found = tree_->find_path(paths.front().frames);
        if (found != LazyTree::root() && tree_->node(found).function != function)
            found = LazyTree::root();
    }
    if (found == LazyTree::root()) return false;
    for (TreeNodeId n : tree_->path_to(found))
        if (n != found) set_expanded(n, true);
    flatten(found);
    return true;
}

Action TreeView::handle(const Key& key) {
    if (cursor_.navigate(key, visible_.size())) return Action::handled();
    if (visible_.empty()) return Action::ignored();
    const TreeNodeId n = visible_[cursor_.cursor()];
    const TreeNode& node = tree_->node(n);
    const bool has_children = tree_->has_children(n);
    switch (key.code) {
        case KeyCode::enter:
            if (has_children) expand(n, !expanded(n));
            return Action::handled();
        case KeyCode::right:
            expand(n, true);
            return Action::handled();
        case KeyCode::left:
            if (has_children && expanded(n)) {
                expand(n, false);
                return Action::handled();
            }
            if (node.parent != LazyTree::root()) {
                select(node.parent);
                return Action::handled();
            }
            return Action::ignored();
        case KeyCode::mouse: {
            if (key.row < 0) return Action::handled();
            const size_t i = cursor_.top() + static_cast<size_t>(key.row);
            if (i >= visible_.size()) return Action::handled();
            if (i == cursor_.cursor())
                expand(visible_[i], !expanded(visible_[i]));
            else
                cursor_.set(i, visible_.size());
            return Action::handled();
        }
        case KeyCode::character:
            break;
        default:
            return Action::ignored();
    }
    switch (key.ch) {
        case '+':
            expand(n, true);
            return Action::handled();
        case '-':
            expand(n, false);
            return Action::handled();
        case 'E':
            if (has_children) expand_hottest(n);
            return Action::handled();
        case 'i': {
            const FunctionId f = node.function;
            inverted_ = !inverted_;
            reset_tree();
            // Land on the same function at the top level of the other tree.
            for (size_t i = 0; i < visible_.size(); ++i)
                if (tree_->node(visible_[i]).function == f) {
                    cursor_.set(i, visible_.size());
                    break;
                }
            return Action::handled();
        }
        case 'o':
            if (node.function != kNoFunction) return Action::open(node.function);
            return Action::handled();
        default:
            return Action::ignored();
    }
}

std::vector<Row> TreeView::rows(const Viewport& vp) {
    std::vector<Row> out;
    if (vp.height <= 0) return out;
    const bool u = vp.unicode;
    const size_t width = static_cast<size_t>(std::max(vp.width, 1));
    const size_t list_height = static_cast<size_t>(std::max(vp.height - 1, 0));
    cursor_.fit(list_height, visible_.size());
    const double total = static_cast<double>(std::max<uint64_t>(session_.total_weight(), 1));
    const Glyphs& gl = vp.glyphs();
    out.push_back(Row{
        {{fit(fit_right("Total%", 7) + fit_right("Self%", 7) + fit_right("Total", 8) + "  Function",
              width, u),
          Style::header}}});
    for (size_t i = cursor_.top();
         i < visible_.size() && out.size() < static_cast<size_t>(vp.height); ++i) {
        const TreeNode& node = tree_->node(visible_[i]);
        Row r;
        r.selected = i == cursor_.cursor();
        r.spans.push_back({fit_right(format_percent(node.total / total), 7) +
                               fit_right(format_percent(node.self / total), 7) +
                               fit_right(format_weight(node.total), 8) + "  ",
                           Style::normal});
        // Deep stacks would push names off the screen: cap the indent.
        const size_t indent = std::min<size_t>(2 * (node.depth - 1), width / 2);
        const char* glyph = !tree_->has_children(visible_[i]) ? gl.tree_leaf
                            : expanded(visible_[i])           ? gl.tree_open
                                                              : gl.tree_closed;
        const size_t used = 24 + indent + 2;
        const size_t name_width = width > used ? width - used : 1;
        const bool kernel = node.function != kNoFunction && session_.function(node.function).kernel;
        r.spans.push_back({std::string(indent, ' ') + glyph, Style::dim});
        r.spans.push_back({fit(session_.name(node.function), name_width, u),
                           kernel ? Style::kernel : Style::user});
        out.push_back(std::move(r));
    }
    clip(out, width);
    return out;
}

}  // namespace kprof::tui
