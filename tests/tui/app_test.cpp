#include "tui/app.hpp"

#include "trace/text.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fixtures.hpp"
#include "support/test_support.hpp"
#include "tui/flame_view.hpp"
#include "tui/function_view.hpp"
#include "tui/functions_view.hpp"
#include "tui/help_view.hpp"
#include "tui/info_view.hpp"
#include "tui/keys.hpp"
#include "tui/path_view.hpp"
#include "tui/text.hpp"
#include "tui/tree_view.hpp"

namespace kprof::tui {
namespace {

using testing::fn;
using testing::make_session;

void type(App& app, const std::string& text) {
    for (char c : text) app.handle(Key::chr(static_cast<char32_t>(c)));
}

std::string screen_text(App& app, int width = 100, int height = 30) {
    const Screen s = app.screen(Viewport{.width = width, .height = height});
    std::string out;
    for (const Span& sp : s.title) out += sp.text;
    out += "\n";
    for (const Row& r : s.body) out += r.text() + "\n";
    for (const Span& sp : s.status) out += sp.text;
    return out;
}

template <class V>
V* top_as(App& app) {
    return dynamic_cast<V*>(&app.top());
}

TEST(App, SearchOpenWalkAndBack) {
    auto s = make_session();
    App app(*s);
    ASSERT_NE(top_as<FunctionsView>(app), nullptr);
    type(app, "/icmp_echo");
    app.handle(Key::of(KeyCode::enter));  // ends the search
    app.handle(Key::of(KeyCode::enter));  // opens icmp_echo
    auto* fv = top_as<FunctionView>(app);
    ASSERT_NE(fv, nullptr);
    EXPECT_EQ(fv->center(), fn(*s, "icmp_echo"));
    const std::string text = screen_text(app);
    EXPECT_NE(text.find("icmp_rcv"), std::string::npos) << text;
    app.handle(Key::of(KeyCode::backspace));
    EXPECT_NE(top_as<FunctionsView>(app), nullptr);
    EXPECT_EQ(app.depth(), 1u);
    // The home screen is never popped.
    app.handle(Key::of(KeyCode::escape));
    EXPECT_EQ(app.depth(), 1u);
    EXPECT_FALSE(app.quitting());
    app.handle(Key::chr('q'));
    EXPECT_TRUE(app.quitting());
}

TEST(App, QIsTextWhileSearching) {
    auto s = make_session();
    App app(*s);
    type(app, "/q");
    EXPECT_FALSE(app.quitting());
    app.handle(Key::of(KeyCode::escape));
    app.handle(Key::chr('q'));
    EXPECT_TRUE(app.quitting());
}

TEST(App, ViewKeysOpenViews) {
    auto s = make_session();
    App app(*s);
    app.handle(Key::chr('?'));
    EXPECT_NE(top_as<HelpView>(app), nullptr);
    app.handle(Key::chr('?'));  // toggles back
    EXPECT_EQ(app.depth(), 1u);
    app.handle(Key::chr('I'));
    EXPECT_NE(top_as<InfoView>(app), nullptr);
    app.handle(Key::of(KeyCode::backspace));
    app.handle(Key::chr('g'));
    EXPECT_NE(top_as<FlameView>(app), nullptr);
    app.handle(Key::chr('g'));  // already there: no second flame view
    EXPECT_EQ(app.depth(), 2u);
    app.handle(Key::of(KeyCode::escape));
    EXPECT_EQ(app.depth(), 1u);

    // t from a function reveals it in the tree; p shows paths to it.
    type(app, "/icmp_reply");
    app.handle(Key::of(KeyCode::enter));
    app.handle(Key::chr('t'));
    auto* tree = top_as<TreeView>(app);
    ASSERT_NE(tree, nullptr);
    EXPECT_EQ(tree->current_function(), fn(*s, "icmp_reply"));
    app.handle(Key::chr('p'));
    auto* paths = top_as<PathView>(app);
    ASSERT_NE(paths, nullptr);
    EXPECT_EQ(paths->target(), fn(*s, "icmp_reply"));
    app.handle(Key::of(KeyCode::down));
    app.handle(Key::of(KeyCode::enter));  // opens the first frame of path #1
    auto* fv = top_as<FunctionView>(app);
    ASSERT_NE(fv, nullptr);
    EXPECT_EQ(fv->center(), fn(*s, "net_rx_action"));
    EXPECT_EQ(app.depth(), 4u);
}

TEST(App, FocusIsSessionWideAndShownInTheStatusBar) {
    auto s = make_session();
    App app(*s);
    type(app, "/icmp_reply");
    app.handle(Key::of(KeyCode::enter));
    app.handle(Key::of(KeyCode::enter));
    app.handle(Key::chr('f'));
    EXPECT_EQ(s->focused_function(), fn(*s, "icmp_reply"));
    EXPECT_NE(screen_text(app).find("focus=icmp_reply"), std::string::npos);
    EXPECT_NE(screen_text(app).find("total 38"), std::string::npos) << screen_text(app);
    app.handle(Key::of(KeyCode::backspace));
    // The home screen was refreshed: only functions on stacks through icmp_reply.
    for (FunctionId f : top_as<FunctionsView>(app)->order())
        EXPECT_NE(s->function(f).name, "compute");
    app.handle(Key::chr('F'));
    EXPECT_FALSE(s->focused_function());
    EXPECT_NE(screen_text(app).find("total 103"), std::string::npos);
}

TEST(App, StatusBarShowsTraceEventTotalAndLosses) {
    Profile p = import_folded_text(testing::kNetFolded);
    auto s = std::make_unique<Session>(p, "net.folded");
    App app(*s);
    std::string text = screen_text(app);
    EXPECT_NE(text.find("net.folded"), std::string::npos);
    EXPECT_NE(text.find("folded"), std::string::npos);
    EXPECT_NE(text.find("total 103"), std::string::npos);
    EXPECT_EQ(text.find("lost"), std::string::npos);

    p.losses.push_back(CpuLoss{.cpu = 1, .lost_records = 3, .lost_samples = 4});
    auto lossy = std::make_unique<Session>(p, "lossy");
    App app2(*lossy);
    text = screen_text(app2);
    EXPECT_NE(text.find("7 lost"), std::string::npos) << text;
}

TEST(App, EventSwitchWithOneEventSaysSo) {
    auto s = make_session();
    App app(*s);
    app.handle(Key::chr('e'));
    EXPECT_NE(screen_text(app).find("no other event"), std::string::npos);
}

TEST(App, EventSwitchRebuildsEveryView) {
    Profile p = import_folded_text(testing::kNetFolded);
    // A second event whose samples all land on compute's stack.
    p.events.push_back(EventDesc{.name = "sys:other", .samples = 1});
    Sample extra = p.samples.front();
    for (const Sample& smp : p.samples)
        if (smp.period == 40) extra = smp;
    extra.event = 1;
    extra.period = 7;
    p.samples.push_back(extra);
    Session s(std::move(p), "two-events");
    App app(s);
    app.handle(Key::chr('e'));
    EXPECT_EQ(s.event_name(), "sys:other");
    EXPECT_EQ(s.total_weight(), 7u);
    auto* home = top_as<FunctionsView>(app);
    ASSERT_EQ(home->order().size(), 2u);  // main and compute
    app.handle(Key::chr('e'));
    EXPECT_EQ(s.total_weight(), testing::kNetTotal);
    EXPECT_GT(home->order().size(), 2u);
    EXPECT_TRUE(s.select_event("sys:other"));
    EXPECT_FALSE(s.select_event("nope"));
}

TEST(App, MouseClicksReachTheView) {
    auto s = make_session();
    App app(*s);
    app.screen(Viewport{.width = 80, .height = 20});
    app.handle(Key::click(3, 5));  // body row 3 = the third function
    EXPECT_EQ(top_as<FunctionsView>(app)->cursor(), 2u);
    app.handle(Key::click(3, 5));
    EXPECT_NE(top_as<FunctionView>(app), nullptr);
}

TEST(App, TinyScreensDoNotBreak) {
    auto s = make_session();
    App app(*s);
    for (int w : {1, 5, 20})
        for (int h : {0, 1, 2, 3, 8}) {
            const Screen sc = app.screen(Viewport{.width = w, .height = h, .unicode = false});
            EXPECT_LE(sc.body.size(), static_cast<size_t>(std::max(h - 2, 0)));
        }
    for (char k : std::string("tgIp?")) {
        app.handle(Key::chr(static_cast<char32_t>(k)));
        app.screen(Viewport{.width = 20, .height = 8});
    }
}

TEST(HelpView, ListsEveryKey) {
    HelpView v;
    const auto rows = v.rows(Viewport{.width = 120, .height = 1000});
    std::string all;
    for (const Row& r : rows) all += r.text() + "\n";
    for (const KeyHelp& k : key_help())
        EXPECT_NE(all.find(std::string(k.what)), std::string::npos) << k.what;
    for (const char* key : {"Enter", "Backspace", "?", "q", "/", "n, N", "s", "k", "e", "f", "F",
                            "c", "t", "+, -", "E", "i", "g", "p", "I"})
        EXPECT_NE(all.find(std::string("  ") + key), std::string::npos) << key;
}

TEST(HelpView, Scrolls) {
    HelpView v;
    const auto first = v.rows(Viewport{.width = 80, .height = 5});
    v.handle(Key::of(KeyCode::page_down));
    const auto second = v.rows(Viewport{.width = 80, .height = 5});
    EXPECT_NE(first.front().text(), second.front().text());
    v.handle(Key::of(KeyCode::end));
    v.handle(Key::of(KeyCode::down));
    EXPECT_EQ(v.rows(Viewport{.width = 80, .height = 5}).size(), 5u);
}

TEST(InfoView, ShowsMetadataEventsLossesAndFilters) {
    Profile p = import_folded_text(testing::kNetFolded);
    p.meta.hostname = "testhost";
    p.meta.kernel_release = "6.18.0";
    p.losses.push_back(CpuLoss{.cpu = 2, .lost_records = 5});
    Session s(std::move(p), "net.kprof");
    s.focus(fn(s, "icmp_echo"));
    InfoView v(s);
    const auto rows = v.rows(Viewport{.width = 100, .height = 200});
    std::string all;
    for (const Row& r : rows) all += r.text() + "\n";
    EXPECT_NE(all.find("testhost"), std::string::npos);
    EXPECT_NE(all.find("6.18.0"), std::string::npos);
    EXPECT_NE(all.find("net.kprof"), std::string::npos);
    EXPECT_NE(all.find("lost records"), std::string::npos);
    EXPECT_NE(all.find("cpu 2"), std::string::npos);
    EXPECT_NE(all.find("focus=icmp_echo"), std::string::npos);
    bool warned = false;
    for (const Row& r : rows)
        for (const Span& sp : r.spans) warned |= sp.style == Style::warning && sp.text == "5";
    EXPECT_TRUE(warned);
}

TEST(Text, EscapeFitAndFormats) {
    for (const char* evil : {"a\x1b[31mb", "del\x7f", "csi\xc2\x9b", "bad\xff", "nl\n"}) {
        const std::string e = escape(evil);
        EXPECT_EQ(e, escape_text(evil));
        for (unsigned char c : e) EXPECT_TRUE(c >= 0x20 && c != 0x7f && c != 0xff) << e;
    }
    EXPECT_EQ(escape("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(display_width("caf\xc3\xa9"), 4u);
    EXPECT_EQ(fit("abcdef", 4, false), "abc~");
    EXPECT_EQ(fit("abcdef", 4, true), "abc\u2026");
    EXPECT_EQ(fit("ab", 4), "ab  ");
    EXPECT_EQ(fit_right("ab", 4), "  ab");
    EXPECT_EQ(format_weight(999999), "999999");
    EXPECT_EQ(format_weight(1234567), "1.23M");
    EXPECT_EQ(format_percent(0.5), "50.00%");
    EXPECT_EQ(format_percent(1.0), "100.0%");
    EXPECT_EQ(bar(0.5, 4, false), "##  ");
    EXPECT_EQ(display_width(bar(0.33, 10, true)), 10u);
    EXPECT_TRUE(contains_folded("ICMP_echo", "icmp_E"));
    EXPECT_FALSE(contains_folded("tcp", "udp"));
}

TEST(ManPage, DocumentsEveryKey) {
    // troff escapes '-' as '\-'; compare without them.
    std::string page = test::read_file(std::string(KPROF_SOURCE_DIR) + "/man/kprof-tui.1");
    ASSERT_FALSE(page.empty()) << "man/kprof-tui.1 is missing";
    for (size_t i; (i = page.find("\\-")) != std::string::npos;) page.erase(i, 1);
    for (const KeyHelp& k : key_help())
        EXPECT_NE(page.find(std::string(k.keys)), std::string::npos)
            << "key not documented: " << k.keys;
}

}  // namespace
}  // namespace kprof::tui
