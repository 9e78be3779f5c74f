#include "tui/flame_view.hpp"

#include <algorithm>

#include "tui/text.hpp"

namespace kprof::tui {

FlameView::FlameView(Session& session) : session_(session) {}

std::string FlameView::title() const {
    std::string t = "Flame graph (icicle: callers above, callees below)";
    if (!zoom_.empty()) t += ", zoomed";
    return t;
}

std::string FlameView::status() const {
    if (selected_ >= layout_.frames.size()) return {};
    const FlameFrame& f = layout_.frames[selected_];
    const double all = static_cast<double>(std::max<uint64_t>(session_.total_weight(), 1));
    return session_.name(f.function) + "  total " + format_weight(f.width) + " (" +
           format_percent(static_cast<double>(f.width) / all) + ")  self " + format_weight(f.self) +
           "  Enter: zoom  Esc: out";
}

std::optional<FunctionRef> FlameView::current_function() const {
    if (selected_ >= layout_.frames.size()) return std::nullopt;
    const FunctionId f = layout_.frames[selected_].function;
    if (f == kNoFunction) return std::nullopt;
    return f;
}

void FlameView::refresh() {
    // New trees: node ids of the zoom stack no longer mean anything.
    zoom_.clear();
    selected_ = 0;
    relayout();
}

void FlameView::layout_for(size_t columns) {
    if (columns == columns_ && !layout_.frames.empty()) return;
    columns_ = columns;
    relayout();
}

void FlameView::relayout() {
    LazyTree& tree = session_.tree(false);
    const TreeNodeId zoom = zoom_.empty() ? LazyTree::root() : zoom_.back();
    const uint64_t zoom_total = tree.node(zoom).total;
    const size_t cols = std::max<size_t>(columns_, 1);
    // Frames under one column cannot be drawn: not building them is what keeps this fast.
    const uint64_t min_width = zoom_total / cols;
    const TreeNodeId keep =
        selected_ < layout_.frames.size() ? layout_.frames[selected_].node : LazyTree::root();
    layout_ = flame_layout(tree, min_width, zoom);
    blocks_.clear();
    const uint64_t total = std::max<uint64_t>(layout_.total, 1);
    for (uint32_t i = 0; i < layout_.frames.size(); ++i) {
        const FlameFrame& f = layout_.frames[i];
        // Integer scaling keeps neighbours from overlapping: a block ends where the next
        // one starts.
        const size_t c0 = static_cast<size_t>((static_cast<unsigned __int128>(f.x) * cols) / total);
        const size_t c1 =
            static_cast<size_t>((static_cast<unsigned __int128>(f.x + f.width) * cols) / total);
        if (c1 <= c0) continue;
        blocks_.push_back({.frame = i, .depth = f.depth, .col = c0, .width = c1 - c0});
    }
    std::stable_sort(blocks_.begin(), blocks_.end(), [](const Block& a, const Block& b) {
        return a.depth != b.depth ? a.depth < b.depth : a.col < b.col;
    });
    block_index_.assign(layout_.frames.size(), kNoBlock);
    for (size_t i = 0; i < blocks_.size(); ++i) block_index_[blocks_[i].frame] = i;
    selected_ = 0;
    for (uint32_t i = 0; i < layout_.frames.size(); ++i)
        if (layout_.frames[i].node == keep && block_of(i) != nullptr) selected_ = i;
}

const FlameView::Block* FlameView::block_of(uint32_t frame) const {
    if (frame >= block_index_.size() || block_index_[frame] == kNoBlock) return nullptr;
    return &blocks_[block_index_[frame]];
}

void FlameView::move_horizontal(int direction) {
    const Block* cur = block_of(selected_);
    if (cur == nullptr) return;
    const auto it = blocks_.begin() + (cur - blocks_.data());
    if (direction < 0 && it != blocks_.begin() && std::prev(it)->depth == cur->depth)
        selected_ = std::prev(it)->frame;
    if (direction > 0 && std::next(it) != blocks_.end() && std::next(it)->depth == cur->depth)
        selected_ = std::next(it)->frame;
}

void FlameView::move_vertical(int direction) {
    if (selected_ >= layout_.frames.size()) return;
    if (direction < 0) {
        selected_ = layout_.frames[selected_].parent;
        return;
    }
    // Down: the widest drawn child.
    const Block* best = nullptr;
    for (const Block& b : blocks_)
        if (layout_.frames[b.frame].parent == selected_ && b.frame != selected_ &&
            (best == nullptr || b.width > best->width))
            best = &b;
    if (best != nullptr) selected_ = best->frame;
}

Action FlameView::handle(const Key& key) {
    if (layout_.frames.empty()) layout_for(columns_ == 0 ? 80 : columns_);
    switch (key.code) {
        case KeyCode::left:
            move_horizontal(-1);
            return Action::handled();
        case KeyCode::right:
            move_horizontal(1);
            return Action::handled();
        case KeyCode::up:
            move_vertical(-1);
            return Action::handled();
        case KeyCode::down:
            move_vertical(1);
            return Action::handled();
        case KeyCode::home:
            selected_ = 0;
            return Action::handled();
        case KeyCode::enter: {
            if (selected_ >= layout_.frames.size() || selected_ == 0) return Action::handled();
            zoom_.push_back(layout_.frames[selected_].node);
            relayout();
            return Action::handled();
        }
        case KeyCode::escape:
        case KeyCode::backspace: {
            if (zoom_.empty()) return Action::ignored();
            const TreeNodeId from = zoom_.back();
            zoom_.pop_back();
            relayout();
            for (uint32_t i = 0; i < layout_.frames.size(); ++i)
                if (layout_.frames[i].node == from) selected_ = i;
            return Action::handled();
        }
        case KeyCode::mouse: {
            const size_t depth = top_depth_ + static_cast<size_t>(std::max(key.row, 0));
            for (const Block& b : blocks_)
                if (b.depth == depth && static_cast<size_t>(key.col) >= b.col &&
                    static_cast<size_t>(key.col) < b.col + b.width) {
                    if (b.frame == selected_ && b.frame != 0) {
                        zoom_.push_back(layout_.frames[b.frame].node);
                        relayout();
                    } else {
                        selected_ = b.frame;
                    }
                    break;
                }
            return Action::handled();
        }
        case KeyCode::character:
            if (key.ch == 'o' && current_function()) return Action::open(*current_function());
            return Action::ignored();
        default:
            return Action::ignored();
    }
}

std::vector<Row> FlameView::rows(const Viewport& vp) {
    std::vector<Row> out;
    if (vp.height <= 0 || vp.width <= 0) return out;
    const size_t width = static_cast<size_t>(vp.width);
    layout_for(width);
    const size_t height = static_cast<size_t>(vp.height);
    const uint32_t sel_depth =
        selected_ < layout_.frames.size() ? layout_.frames[selected_].depth : 0;
    if (sel_depth < top_depth_) top_depth_ = sel_depth;
    if (sel_depth >= top_depth_ + height) top_depth_ = sel_depth - height + 1;

    size_t b = 0;
    for (size_t depth = top_depth_; depth <= layout_.max_depth && out.size() < height; ++depth) {
        while (b < blocks_.size() && blocks_[b].depth < depth) ++b;
        Row r;
        size_t col = 0;
        size_t nth = 0;
        for (; b < blocks_.size() && blocks_[b].depth == depth; ++b, ++nth) {
            const Block& blk = blocks_[b];
            if (blk.col > col) r.spans.push_back({std::string(blk.col - col, ' '), Style::normal});
            const FlameFrame& f = layout_.frames[blk.frame];
            const bool alt = nth % 2 == 1;
            Style style = f.kernel ? (alt ? Style::flame_kernel_b : Style::flame_kernel_a)
                                   : (alt ? Style::flame_user_b : Style::flame_user_a);
            std::string label = session_.name(f.function);
            if (blk.frame == selected_) {
                // The renderer has no per-span cursor: mark the selection in the text too.
                label = "[" + label + "]";
                style = Style::center;
            }
            r.spans.push_back({fit(label, blk.width, vp.unicode), style});
            col = blk.col + blk.width;
        }
        out.push_back(std::move(r));
    }
    clip(out, width);
    return out;
}

}  // namespace kprof::tui
