#include "tui/functions_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fixtures.hpp"
#include "trace/text.hpp"
#include "tui/text.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;

void type(View& v, const std::string& text) {
    for (char c : text) v.handle(Key::chr(static_cast<char32_t>(c)));
}

TEST(FunctionsView, SortsBySelfThenTotalThenName) {
    auto s = make_session();
    FunctionsView v(*s);
    const CallGraph& g = s->graph();
    ASSERT_EQ(v.sort(), FunctionsView::Sort::self);
    ASSERT_FALSE(v.order().empty());
    for (size_t i = 1; i < v.order().size(); ++i)
        EXPECT_GE(g.self(v.order()[i - 1], 0), g.self(v.order()[i], 0));

    v.handle(Key::chr('s'));
    EXPECT_EQ(v.sort(), FunctionsView::Sort::total);
    EXPECT_EQ(v.order().front(), fn(*s, "main"));  // 60 of 103
    for (size_t i = 1; i < v.order().size(); ++i)
        EXPECT_GE(g.total(v.order()[i - 1], 0), g.total(v.order()[i], 0));

    v.handle(Key::chr('s'));
    EXPECT_EQ(v.sort(), FunctionsView::Sort::name);
    for (size_t i = 1; i < v.order().size(); ++i)
        EXPECT_LE(s->function(v.order()[i - 1]).name, s->function(v.order()[i]).name);

    v.handle(Key::chr('s'));
    EXPECT_EQ(v.sort(), FunctionsView::Sort::self);
}

TEST(FunctionsView, SortKeepsTheCursorOnItsFunction) {
    auto s = make_session();
    FunctionsView v(*s);
    v.handle(Key::of(KeyCode::down));
    v.handle(Key::of(KeyCode::down));
    const auto before = v.current_function();
    v.handle(Key::chr('s'));
    EXPECT_EQ(v.current_function(), before);
}

TEST(FunctionsView, KernelUserToggle) {
    auto s = make_session();
    FunctionsView v(*s);
    const size_t all = v.order().size();
    v.handle(Key::chr('k'));
    EXPECT_EQ(v.space(), FunctionsView::Space::kernel);
    ASSERT_FALSE(v.order().empty());
    for (FunctionId f : v.order()) EXPECT_TRUE(s->function(f).kernel) << s->function(f).name;
    const size_t kernel = v.order().size();
    v.handle(Key::chr('k'));
    EXPECT_EQ(v.space(), FunctionsView::Space::user);
    for (FunctionId f : v.order()) EXPECT_FALSE(s->function(f).kernel) << s->function(f).name;
    EXPECT_EQ(kernel + v.order().size(), all);
    v.handle(Key::chr('k'));
    EXPECT_EQ(v.order().size(), all);
}

TEST(FunctionsView, IncrementalSearchAndNextPrevious) {
    auto s = make_session();
    FunctionsView v(*s);
    v.handle(Key::chr('/'));
    EXPECT_TRUE(v.capturing_input());
    // While typing, 'q' and 'n' are text, not commands.
    type(v, "icmp_e");
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_echo"));
    EXPECT_EQ(v.status(), "/icmp_e");
    v.handle(Key::of(KeyCode::backspace));
    v.handle(Key::of(KeyCode::backspace));
    EXPECT_EQ(v.query(), "icmp");
    v.handle(Key::of(KeyCode::enter));
    EXPECT_FALSE(v.capturing_input());

    // n visits the three functions containing "icmp" and wraps around to the first.
    std::vector<FunctionId> seen;
    for (int i = 0; i < 3; ++i) {
        seen.push_back(*v.current_function());
        EXPECT_NE(s->function(seen.back()).name.find("icmp"), std::string::npos);
        v.handle(Key::chr('n'));
    }
    EXPECT_EQ(*v.current_function(), seen.front());
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
    const FunctionId at = *v.current_function();
    v.handle(Key::chr('n'));
    v.handle(Key::chr('N'));
    EXPECT_EQ(*v.current_function(), at);
}

TEST(FunctionsView, SearchEscapeRestoresTheCursor) {
    auto s = make_session();
    FunctionsView v(*s);
    v.handle(Key::of(KeyCode::down));
    const auto origin = v.current_function();
    v.handle(Key::chr('/'));
    type(v, "icmp_reply");
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_reply"));
    v.handle(Key::of(KeyCode::escape));
    EXPECT_FALSE(v.capturing_input());
    EXPECT_EQ(v.current_function(), origin);
    v.handle(Key::chr('/'));
    type(v, "no_such_function");
    EXPECT_NE(v.status().find("no_such_function"), std::string::npos);
}

TEST(FunctionsView, SearchPrefersAnExactName) {
    // By self, "icmp_echo.part.0" (self 5) comes before "icmp_echo" (self 0).
    auto s = make_session("a;icmp_echo.part.0_[k] 5\nb;icmp_echo_[k];x_[k] 5\n");
    FunctionsView v(*s);
    v.handle(Key::chr('/'));
    type(v, "icmp_e");
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_echo.part.0"));
    type(v, "cho");
    EXPECT_EQ(v.current_function(), fn(*s, "icmp_echo"));
}

TEST(FunctionsView, EnterOpensTheSelectedFunction) {
    auto s = make_session();
    FunctionsView v(*s);
    v.handle(Key::chr('/'));
    type(v, "icmp_echo");
    v.handle(Key::of(KeyCode::enter));  // ends the search
    EXPECT_EQ(v.handle(Key::of(KeyCode::enter)), Action::open(fn(*s, "icmp_echo")));
}

TEST(FunctionsView, RowsShowPercentagesAndFitNarrowScreens) {
    auto s = make_session();
    FunctionsView v(*s);
    const FunctionId first = *v.current_function();
    v.handle(Key::chr('s'));  // by total: main first, the cursor stays on its function
    auto rows = v.rows(Viewport{.width = 120, .height = 10, .unicode = true});
    ASSERT_EQ(rows.size(), 10u);
    EXPECT_NE(rows[0].text().find("Total%"), std::string::npos);
    EXPECT_FALSE(rows[1].selected);
    EXPECT_NE(rows[1].text().find("main"), std::string::npos);
    for (const Row& r : rows) {
        if (r.selected) {
            EXPECT_NE(r.text().find(s->function(first).name), std::string::npos);
        }
    }
    EXPECT_NE(rows[1].text().find(format_percent(60.0 / 103)), std::string::npos);
    for (const Row& r : rows) EXPECT_EQ(display_width(r.text()), 120u) << r.text();

    for (int w : {20, 40, 79}) {
        auto narrow = v.rows(Viewport{.width = w, .height = 6, .unicode = false});
        EXPECT_EQ(narrow.size(), 6u);
        for (const Row& r : narrow) EXPECT_LE(display_width(r.text()), static_cast<size_t>(w));
    }
    EXPECT_TRUE(v.rows(Viewport{.width = 20, .height = 0}).empty());
}

TEST(FunctionsView, PageDownScrollsAndMouseClickSelectsThenOpens) {
    auto s = make_session();
    FunctionsView v(*s);
    v.rows(Viewport{.width = 80, .height = 5});  // 4 list rows
    v.handle(Key::of(KeyCode::page_down));
    EXPECT_EQ(v.cursor(), 4u);
    auto rows = v.rows(Viewport{.width = 80, .height = 5});
    EXPECT_TRUE(rows.back().selected);
    v.handle(Key::of(KeyCode::home));
    v.rows(Viewport{.width = 80, .height = 5});
    EXPECT_EQ(v.handle(Key::click(2, 10)), Action::handled());
    EXPECT_EQ(v.cursor(), 1u);
    EXPECT_EQ(v.handle(Key::click(2, 10)), Action::open(v.order()[1]));
}

TEST(FunctionsView, FocusRefreshDropsOtherStacks) {
    auto s = make_session();
    FunctionsView v(*s);
    s->focus(fn(*s, "icmp_echo"));
    v.refresh();
    for (FunctionId f : v.order()) EXPECT_NE(s->function(f).name, "compute");
    EXPECT_EQ(s->total_weight(), 43u);
    s->clear_focus();
    v.refresh();
    EXPECT_EQ(s->total_weight(), testing::kNetTotal);
}

TEST(FunctionsView, NamesAreEscaped) {
    auto s = make_session("app;main;evil\x1b[2Jname 3\n");
    FunctionsView v(*s);
    const auto rows = v.rows(Viewport{.width = 100, .height = 5});
    for (const Row& r : rows) EXPECT_EQ(r.text().find('\x1b'), std::string::npos);
    bool found = false;
    for (const Row& r : rows)
        found |= r.text().find(escape_text("evil\x1b[2Jname")) != std::string::npos;
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace kprof::tui
