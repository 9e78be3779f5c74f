#include "tui/flame_view.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fixtures.hpp"
#include "tui/text.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;

const FlameView::Block* block_of(const FlameView& v, FunctionId f) {
    for (const auto& b : v.blocks())
        if (v.layout().frames[b.frame].function == f) return &b;
    return nullptr;
}

TEST(FlameView, WidthsAreProportionalToWeight) {
    auto s = make_session();
    FlameView v(*s);
    v.layout_for(103);  // one column per sample
    ASSERT_FALSE(v.blocks().empty());
    EXPECT_EQ(v.blocks()[0].width, 103u);
    ASSERT_NE(block_of(v, fn(*s, "main")), nullptr);
    EXPECT_EQ(block_of(v, fn(*s, "main"))->width, 60u);
    EXPECT_EQ(block_of(v, fn(*s, "net_rx_action"))->width, 43u);
    EXPECT_EQ(block_of(v, fn(*s, "compute"))->width, 40u);

    v.layout_for(206);
    EXPECT_EQ(block_of(v, fn(*s, "main"))->width, 120u);
    EXPECT_EQ(block_of(v, fn(*s, "net_rx_action"))->width, 86u);
}

TEST(FlameView, BlocksOfOneRowNeverOverlap) {
    auto s = make_session();
    FlameView v(*s);
    for (size_t cols : {7, 20, 80, 333}) {
        v.layout_for(cols);
        std::map<uint32_t, size_t> end_of_row;
        for (const auto& b : v.blocks()) {
            EXPECT_GE(b.col, end_of_row[b.depth]) << "cols " << cols;
            end_of_row[b.depth] = b.col + b.width;
            EXPECT_LE(b.col + b.width, cols);
            EXPECT_GT(b.width, 0u);
        }
    }
}

TEST(FlameView, KernelFramesAreMarked) {
    auto s = make_session();
    FlameView v(*s);
    v.layout_for(103);
    EXPECT_TRUE(v.layout().frames[block_of(v, fn(*s, "icmp_rcv"))->frame].kernel);
    EXPECT_FALSE(v.layout().frames[block_of(v, fn(*s, "compute"))->frame].kernel);
    const auto rows = v.rows(Viewport{.width = 103, .height = 10});
    bool kernel_style = false, user_style = false;
    for (const Row& r : rows)
        for (const Span& sp : r.spans) {
            kernel_style |= sp.style == Style::flame_kernel_a || sp.style == Style::flame_kernel_b;
            user_style |= sp.style == Style::flame_user_a || sp.style == Style::flame_user_b;
        }
    EXPECT_TRUE(kernel_style);
    EXPECT_TRUE(user_style);
    for (const Row& r : rows) EXPECT_LE(display_width(r.text()), 103u);
}

TEST(FlameView, ArrowsMoveBetweenFrames) {
    auto s = make_session();
    FlameView v(*s);
    v.layout_for(103);
    EXPECT_EQ(v.selected(), 0u);  // the root ("all")
    v.handle(Key::of(KeyCode::down));
    EXPECT_EQ(v.current_function(), fn(*s, "main"));  // the widest child
    v.handle(Key::of(KeyCode::right));
    EXPECT_EQ(v.current_function(), fn(*s, "net_rx_action"));
    v.handle(Key::of(KeyCode::right));  // the last on its row: stays
    EXPECT_EQ(v.current_function(), fn(*s, "net_rx_action"));
    v.handle(Key::of(KeyCode::down));
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_rcv"));
    v.handle(Key::of(KeyCode::left));  // the neighbour on the same row, across parents
    EXPECT_NE(v.current_function(), fn(*s, "icmp_rcv"));
    v.handle(Key::of(KeyCode::up));
    EXPECT_EQ(v.current_function(), fn(*s, "main"));
}

TEST(FlameView, EnterZoomsAndEscapeZoomsOut) {
    auto s = make_session();
    FlameView v(*s);
    v.layout_for(80);
    v.handle(Key::of(KeyCode::down));
    v.handle(Key::of(KeyCode::right));  // net_rx_action
    v.handle(Key::of(KeyCode::enter));
    EXPECT_EQ(v.zoom_stack().size(), 1u);
    EXPECT_EQ(v.layout().frames[0].function, fn(*s, "net_rx_action"));
    EXPECT_EQ(v.blocks()[0].width, 80u);  // the zoomed frame spans the screen
    // dev_hard_start_xmit has 30 of net_rx_action's 43 here.
    EXPECT_EQ(block_of(v, fn(*s, "dev_hard_start_xmit"))->width, 30u * 80 / 43);
    v.handle(Key::of(KeyCode::escape));
    EXPECT_TRUE(v.zoom_stack().empty());
    EXPECT_EQ(v.current_function(), fn(*s, "net_rx_action"));
    EXPECT_EQ(v.handle(Key::of(KeyCode::escape)), Action::ignored());  // the App goes back
}

TEST(FlameView, DeepGraphsScrollToTheSelection) {
    auto s = make_session();
    FlameView v(*s);
    v.rows(Viewport{.width = 100, .height = 3});
    for (int i = 0; i < 6; ++i) v.handle(Key::of(KeyCode::down));
    const auto rows = v.rows(Viewport{.width = 100, .height = 3});
    ASSERT_EQ(rows.size(), 3u);
    bool marked = false;
    for (const Row& r : rows) marked |= r.text().find("[") != std::string::npos;
    EXPECT_TRUE(marked);
}

}  // namespace
}  // namespace kprof::tui
