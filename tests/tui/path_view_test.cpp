#include "tui/path_view.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;

TEST(PathView, RanksPathsByWeight) {
    auto s = make_session();
    PathView v(*s, fn(*s, "dev_hard_start_xmit"));
    ASSERT_EQ(v.paths().size(), 2u);
    EXPECT_EQ(v.paths()[0].weight, 30u);
    EXPECT_EQ(v.paths()[0].frames.front(), fn(*s, "net_rx_action"));
    EXPECT_EQ(v.paths()[0].frames.back(), fn(*s, "dev_hard_start_xmit"));
    EXPECT_EQ(v.paths()[1].weight, 10u);
    EXPECT_EQ(v.paths()[1].frames.front(), fn(*s, "main"));
    // One heading line per path plus one line per frame.
    EXPECT_EQ(v.lines().size(), 2 + v.paths()[0].frames.size() + v.paths()[1].frames.size());

    const auto rows = v.rows(Viewport{.width = 100, .height = 30});
    ASSERT_GE(rows.size(), 3u);
    EXPECT_NE(rows[1].text().find("#1"), std::string::npos);
    EXPECT_NE(rows[1].text().find("75.00%"), std::string::npos) << rows[1].text();  // 30 of 40
}

TEST(PathView, EnterOpensTheFunctionUnderTheCursor) {
    auto s = make_session();
    PathView v(*s, fn(*s, "dev_hard_start_xmit"));
    v.handle(Key::of(KeyCode::down));  // the first frame of path #1
    EXPECT_EQ(v.handle(Key::of(KeyCode::enter)), Action::open(fn(*s, "net_rx_action")));
}

TEST(PathView, StartAtACaller) {
    auto s = make_session();
    PathView v(*s, fn(*s, "dev_hard_start_xmit"));
    v.handle(Key::of(KeyCode::down));
    v.handle(Key::of(KeyCode::down));  // icmp_rcv
    ASSERT_EQ(v.current_function(), fn(*s, "icmp_rcv"));
    v.handle(Key::chr('r'));
    EXPECT_EQ(v.from(), fn(*s, "icmp_rcv"));
    ASSERT_EQ(v.paths().size(), 1u);
    EXPECT_EQ(v.paths()[0].frames.front(), fn(*s, "icmp_rcv"));
    EXPECT_EQ(v.paths()[0].weight, 30u);
    v.handle(Key::chr('R'));
    EXPECT_EQ(v.paths().size(), 2u);
}

TEST(PathView, NoPathsIsSaidNotBlank) {
    auto s = make_session();
    s->focus(fn(*s, "compute"));
    PathView v(*s, fn(*s, "icmp_echo"));
    EXPECT_TRUE(v.paths().empty());
    const auto rows = v.rows(Viewport{.width = 80, .height = 5});
    ASSERT_GE(rows.size(), 2u);
    EXPECT_NE(rows[1].text().find("no stack"), std::string::npos);
}

}  // namespace
}  // namespace kprof::tui
