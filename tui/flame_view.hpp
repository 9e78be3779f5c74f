#pragma once

#include <vector>

#include "analyzer/flame.hpp"
#include "tui/session.hpp"

namespace kprof::tui {

// 'g': an icicle graph (the root on top, callees below), one terminal row per stack
// depth, each frame as wide as its share of the samples.
class FlameView : public View {
  public:
    explicit FlameView(Session& session);

    // A frame placed on the screen: columns [col, col + width) of row `depth`.
    struct Block {
        uint32_t frame = 0;  // index into layout().frames
        uint32_t depth = 0;
        size_t col = 0;
        size_t width = 0;
    };

    std::string title() const override;
    std::string status() const override;
    std::vector<Row> rows(const Viewport& viewport) override;
    Action handle(const Key& key) override;
    std::optional<FunctionRef> current_function() const override;
    void refresh() override;

    // For tests and the benchmark: lays out for `columns` (rows() does this itself).
    void layout_for(size_t columns);
    const FlameLayout& layout() const { return layout_; }
    const std::vector<Block>& blocks() const { return blocks_; }
    uint32_t selected() const { return selected_; }  // index into layout().frames
    const std::vector<TreeNodeId>& zoom_stack() const { return zoom_; }

  private:
    void relayout();
    const Block* block_of(uint32_t frame) const;
    void move_horizontal(int direction);
    void move_vertical(int direction);

    Session& session_;
    FlameLayout layout_;
    std::vector<Block> blocks_;  // by depth, then column
    static constexpr size_t kNoBlock = SIZE_MAX;
    std::vector<size_t> block_index_;  // frame -> index into blocks_, kNoBlock if not drawn
    std::vector<TreeNodeId> zoom_;
    uint32_t selected_ = 0;
    size_t columns_ = 0;
    size_t top_depth_ = 0;
};

}  // namespace kprof::tui
