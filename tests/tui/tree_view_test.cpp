#include "tui/tree_view.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "tui/text.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;

FunctionId at(const TreeView& v, size_t i) {
    return v.tree().node(v.visible()[i]).function;
}

TEST(TreeView, StartsWithTheRootsHeaviestFirst) {
    auto s = make_session();
    TreeView v(*s);
    ASSERT_EQ(v.visible().size(), 2u);
    EXPECT_EQ(at(v, 0), fn(*s, "main"));
    EXPECT_EQ(at(v, 1), fn(*s, "net_rx_action"));
    EXPECT_EQ(v.tree().node(v.visible()[0]).total, 60u);
}

TEST(TreeView, ExpandAndCollapse) {
    auto s = make_session();
    TreeView v(*s);
    v.handle(Key::of(KeyCode::enter));  // main: __libc_sendto, compute, cyc_a, rec
    EXPECT_EQ(v.visible().size(), 6u);
    EXPECT_TRUE(v.expanded(v.visible()[0]));
    EXPECT_EQ(at(v, 1), fn(*s, "compute"));  // heaviest child first
    v.handle(Key::chr('-'));
    EXPECT_EQ(v.visible().size(), 2u);
    v.handle(Key::chr('+'));
    EXPECT_EQ(v.visible().size(), 6u);
    v.handle(Key::of(KeyCode::down));  // compute
    v.handle(Key::of(KeyCode::left));  // a leaf: Left goes to its parent
    EXPECT_EQ(v.cursor(), 0u);
    v.handle(Key::of(KeyCode::left));  // expanded: Left collapses
    EXPECT_EQ(v.visible().size(), 2u);
    EXPECT_EQ(v.handle(Key::of(KeyCode::left)), Action::ignored());  // the App goes back
}

TEST(TreeView, ExpandHottestPath) {
    auto s = make_session();
    TreeView v(*s);
    v.handle(Key::of(KeyCode::down));  // net_rx_action
    v.handle(Key::chr('E'));
    // net_rx_action -> icmp_rcv (35) -> icmp_echo -> icmp_reply (30) -> ip_push... -> dev...
    std::vector<std::string> names;
    for (size_t i = 0; i < v.visible().size(); ++i) names.push_back(s->name(at(v, i)));
    const std::vector<std::string> expected = {"main",
                                               "net_rx_action",
                                               "icmp_rcv",
                                               "icmp_echo",
                                               "icmp_reply",
                                               "ip_push_pending_frames",
                                               "dev_hard_start_xmit",
                                               "ip_rcv"};
    EXPECT_EQ(names, expected);
    EXPECT_EQ(v.tree().node(v.visible()[2]).total, 35u);
    EXPECT_EQ(at(v, v.cursor()), fn(*s, "net_rx_action"));
}

TEST(TreeView, InvertShowsLeafFunctionsFirst) {
    auto s = make_session();
    TreeView v(*s);
    v.handle(Key::chr('i'));
    EXPECT_TRUE(v.inverted());
    ASSERT_FALSE(v.visible().empty());
    uint64_t prev = UINT64_MAX;
    for (size_t i = 0; i < v.visible().size(); ++i) {
        const auto& n = v.tree().node(v.visible()[i]);
        EXPECT_LE(n.total, prev);
        prev = n.total;
        // Bottom-up roots are where samples were taken: a root's total is the function's
        // self weight.
        EXPECT_EQ(n.total, s->graph().self(n.function, 0)) << s->name(n.function);
    }
    // dev_hard_start_xmit (40) is called by ip_push_pending_frames.
    for (size_t i = 0; i < v.visible().size(); ++i)
        if (at(v, i) == fn(*s, "dev_hard_start_xmit")) {
            for (size_t k = 0; k < i; ++k) v.handle(Key::of(KeyCode::down));
            break;
        }
    ASSERT_EQ(at(v, v.cursor()), fn(*s, "dev_hard_start_xmit"));
    v.handle(Key::chr('+'));
    EXPECT_EQ(at(v, v.cursor() + 1), fn(*s, "ip_push_pending_frames"));
    v.handle(Key::chr('i'));
    EXPECT_FALSE(v.inverted());
}

TEST(TreeView, RevealExpandsThePathToTheHottestNode) {
    auto s = make_session();
    TreeView v(*s);
    ASSERT_TRUE(v.reveal(fn(*s, "icmp_reply")));
    EXPECT_EQ(at(v, v.cursor()), fn(*s, "icmp_reply"));
    EXPECT_EQ(v.tree().node(v.visible()[v.cursor()]).total, 30u);
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_reply"));
    EXPECT_EQ(v.handle(Key::chr('o')), Action::open(fn(*s, "icmp_reply")));
}

TEST(TreeView, RowsIndentChildren) {
    auto s = make_session();
    TreeView v(*s);
    v.handle(Key::of(KeyCode::enter));
    const auto rows = v.rows(Viewport{.width = 80, .height = 10, .unicode = false});
    ASSERT_GE(rows.size(), 3u);
    EXPECT_NE(rows[1].text().find("- main"), std::string::npos) << rows[1].text();
    EXPECT_NE(rows[2].text().find("    compute"), std::string::npos) << rows[2].text();
    EXPECT_NE(rows[1].text().find(format_percent(60.0 / 103)), std::string::npos);
    for (const Row& r : v.rows(Viewport{.width = 20, .height = 8}))
        EXPECT_LE(display_width(r.text()), 20u);
}

}  // namespace
}  // namespace kprof::tui
