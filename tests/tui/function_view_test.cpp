#include "tui/function_view.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "tui/text.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;
using Kind = FunctionView::LineKind;

std::vector<FunctionView::Line> of_kind(const FunctionView& v, Kind kind) {
    std::vector<FunctionView::Line> out;
    for (const auto& l : v.lines())
        if (l.kind == kind) out.push_back(l);
    return out;
}

const FunctionView::Line* find(const FunctionView& v, Kind kind, FunctionId f) {
    for (const auto& l : v.lines())
        if (l.kind == kind && l.function == f) return &l;
    return nullptr;
}

TEST(FunctionView, ButterflyRowsAndWeights) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "icmp_echo"));
    const auto callers = of_kind(v, Kind::caller);
    ASSERT_EQ(callers.size(), 1u);
    EXPECT_EQ(callers[0].function, fn(*s, "icmp_rcv"));
    EXPECT_EQ(callers[0].weight, 43u);
    EXPECT_DOUBLE_EQ(callers[0].share, 1.0);

    const auto callees = of_kind(v, Kind::callee);
    ASSERT_EQ(callees.size(), 1u);
    EXPECT_EQ(callees[0].function, fn(*s, "icmp_reply"));
    EXPECT_EQ(callees[0].weight, 38u);
    EXPECT_DOUBLE_EQ(callees[0].share, 38.0 / 43.0);

    const auto center = of_kind(v, Kind::center);
    ASSERT_EQ(center.size(), 1u);
    EXPECT_EQ(center[0].weight, 43u);
    EXPECT_EQ(center[0].self, 5u);
    EXPECT_DOUBLE_EQ(center[0].share, 43.0 / 103.0);
    // The cursor starts on the function itself, callers above it, callees below.
    EXPECT_EQ(v.lines()[v.cursor()].kind, Kind::center);
    size_t caller_at = 0, center_at = 0, callee_at = 0;
    for (size_t i = 0; i < v.lines().size(); ++i) {
        if (v.lines()[i].kind == Kind::caller) caller_at = i;
        if (v.lines()[i].kind == Kind::center) center_at = i;
        if (v.lines()[i].kind == Kind::callee) callee_at = i;
    }
    EXPECT_LT(caller_at, center_at);
    EXPECT_LT(center_at, callee_at);

    const auto rows = v.rows(Viewport{.width = 100, .height = 20});
    std::string all;
    for (const Row& r : rows) all += r.text() + "\n";
    EXPECT_NE(all.find("icmp_rcv"), std::string::npos) << all;
    EXPECT_NE(all.find("icmp_reply"), std::string::npos) << all;
    EXPECT_NE(all.find(format_percent(38.0 / 43.0)), std::string::npos) << all;
    EXPECT_NE(all.find("self 5  total 43"), std::string::npos) << all;
}

TEST(FunctionView, CallersHeaviestNextToTheCentre) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "icmp_rcv"));
    const auto callers = of_kind(v, Kind::caller);
    ASSERT_EQ(callers.size(), 2u);
    EXPECT_EQ(callers[0].function, fn(*s, "ip_rcv"));
    EXPECT_EQ(callers[0].weight, 8u);
    EXPECT_EQ(callers[1].function, fn(*s, "net_rx_action"));
    EXPECT_EQ(callers[1].weight, 35u);
    v.handle(Key::of(KeyCode::up));
    EXPECT_EQ(v.lines()[v.cursor()].function, fn(*s, "net_rx_action"));
    v.handle(Key::of(KeyCode::up));
    EXPECT_EQ(v.lines()[v.cursor()].function, fn(*s, "ip_rcv"));
    v.handle(Key::of(KeyCode::up));  // headings are skipped: stays on the first caller
    EXPECT_EQ(v.lines()[v.cursor()].function, fn(*s, "ip_rcv"));
}

TEST(FunctionView, EnterRecentresAndBackspaceWalksTheHistory) {
    auto s = make_session();
    const FunctionId echo = fn(*s, "icmp_echo");
    FunctionView v(*s, echo);
    v.handle(Key::of(KeyCode::up));  // icmp_rcv
    v.handle(Key::of(KeyCode::enter));
    EXPECT_EQ(v.center(), fn(*s, "icmp_rcv"));
    EXPECT_EQ(v.history(), std::vector<FunctionId>{echo});
    EXPECT_EQ(v.lines()[v.cursor()].kind, Kind::center);

    v.handle(Key::of(KeyCode::down));  // icmp_echo, the only callee
    v.handle(Key::of(KeyCode::down));  // the end of the list: stays there
    EXPECT_EQ(v.lines()[v.cursor()].function, echo);
    v.handle(Key::of(KeyCode::backspace));
    EXPECT_EQ(v.center(), echo);
    EXPECT_TRUE(v.history().empty());
    // Back lands on the function we came from: icmp_rcv among the callers.
    EXPECT_EQ(v.lines()[v.cursor()].kind, Kind::caller);
    EXPECT_EQ(v.lines()[v.cursor()].function, fn(*s, "icmp_rcv"));
    // Nothing left to go back to: the App leaves the view.
    EXPECT_EQ(v.handle(Key::of(KeyCode::backspace)), Action::ignored());
    EXPECT_EQ(v.handle(Key::of(KeyCode::left)), Action::ignored());
}

TEST(FunctionView, EnterOnTheCentreDoesNothing) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "icmp_echo"));
    v.handle(Key::of(KeyCode::enter));
    EXPECT_EQ(v.center(), fn(*s, "icmp_echo"));
    EXPECT_TRUE(v.history().empty());
}

TEST(FunctionView, SpontaneousCallerForRoots) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "main"));
    EXPECT_TRUE(of_kind(v, Kind::caller).empty());
    bool spontaneous = false;
    for (const auto& l : v.lines())
        spontaneous |= l.kind == Kind::note && l.weight == 60 &&
                       l.text.find("spontaneous") != std::string::npos;
    EXPECT_TRUE(spontaneous);
}

TEST(FunctionView, FocusChangesWeights) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "dev_hard_start_xmit"));
    ASSERT_NE(find(v, Kind::caller, fn(*s, "ip_push_pending_frames")), nullptr);
    EXPECT_EQ(find(v, Kind::caller, fn(*s, "ip_push_pending_frames"))->weight, 40u);
    s->focus(fn(*s, "icmp_reply"));
    v.refresh();
    EXPECT_EQ(find(v, Kind::caller, fn(*s, "ip_push_pending_frames"))->weight, 30u);
    EXPECT_EQ(of_kind(v, Kind::center)[0].weight, 30u);
    s->clear_focus();
    v.refresh();
    EXPECT_EQ(of_kind(v, Kind::center)[0].weight, 40u);
}

TEST(FunctionView, CollapseRecursionCycles) {
    auto s = make_session();
    const FunctionId a = fn(*s, "cyc_a"), b = fn(*s, "cyc_b");
    ASSERT_GT(s->graph().cycle_of(a), 0);
    FunctionView v(*s, a);
    EXPECT_NE(find(v, Kind::caller, b), nullptr);  // b calls a back
    EXPECT_NE(find(v, Kind::caller, fn(*s, "main")), nullptr);
    v.handle(Key::chr('c'));
    EXPECT_TRUE(s->collapse_cycles());
    EXPECT_EQ(find(v, Kind::caller, b), nullptr);
    EXPECT_EQ(find(v, Kind::callee, b), nullptr);
    ASSERT_NE(find(v, Kind::caller, fn(*s, "main")), nullptr);
    EXPECT_EQ(find(v, Kind::caller, fn(*s, "main"))->weight, 6u);
    ASSERT_NE(find(v, Kind::callee, fn(*s, "leaf")), nullptr);
    EXPECT_EQ(of_kind(v, Kind::center)[0].cycle, s->graph().cycle_of(a));
    EXPECT_EQ(of_kind(v, Kind::center)[0].weight, 6u);
    v.handle(Key::chr('c'));
    EXPECT_NE(find(v, Kind::caller, b), nullptr);
}

TEST(FunctionView, SelfRecursionIsCountedOncePerStack) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "rec"));
    EXPECT_EQ(of_kind(v, Kind::center)[0].weight, 4u);
    ASSERT_NE(find(v, Kind::caller, fn(*s, "rec")), nullptr);
    EXPECT_EQ(find(v, Kind::caller, fn(*s, "rec"))->weight, 4u);
}

TEST(FunctionView, MouseClickSelectsThenRecentres) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "icmp_echo"));
    v.rows(Viewport{.width = 80, .height = 20});
    size_t callee_row = 0;
    for (size_t i = 0; i < v.lines().size(); ++i)
        if (v.lines()[i].kind == Kind::callee) callee_row = i;
    v.handle(Key::click(static_cast<int>(callee_row), 30));
    EXPECT_EQ(v.cursor(), callee_row);
    v.handle(Key::click(static_cast<int>(callee_row), 30));
    EXPECT_EQ(v.center(), fn(*s, "icmp_reply"));
}

TEST(FunctionView, SmallScreenKeepsTheCursorVisible) {
    auto s = make_session();
    FunctionView v(*s, fn(*s, "main"));
    for (int i = 0; i < 5; ++i) v.handle(Key::of(KeyCode::down));
    const auto rows = v.rows(Viewport{.width = 20, .height = 3, .unicode = false});
    ASSERT_LE(rows.size(), 3u);
    bool selected = false;
    for (const Row& r : rows) {
        selected |= r.selected;
        EXPECT_LE(display_width(r.text()), 20u);
    }
    EXPECT_TRUE(selected);
}

}  // namespace
}  // namespace kprof::tui
