// Times `kprof tui`'s work without a terminal: the first screen (load the trace,
// aggregate, build the call graph, lay out the home view) and the handling of each key
// (the view model's update plus the rows of the next screen), over the real view models.
// Targets (issue 5): first screen under 0.5 s on a 1M-sample trace, every key under 50 ms.
//
//   tui_bench TRACE [--width 120] [--height 40] [--repeat 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"
#include "import/imports.hpp"
#include "tui/app.hpp"
#include "tui/session.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using kprof::tui::Key;
using kprof::tui::KeyCode;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Step {
    std::string label;
    std::vector<Key> keys;  // timed together (e.g. typing a search word counts per key)
};

Key chr(char c) {
    return Key::chr(static_cast<char32_t>(c));
}
Key code(KeyCode c) {
    return Key::of(c);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: tui_bench TRACE [--width N] [--height N] [--repeat N]\n");
        return 2;
    }
    const std::string trace = argv[1];
    int width = 120, height = 40, repeat = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--width")) width = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--height")) height = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(argv[i + 1]);
    }
    const kprof::tui::Viewport vp{.width = width, .height = height, .unicode = true};

    // First screen, as `kprof tui` does it, `repeat` times (medians: the machine is
    // shared). The split times aggregate() and CallGraph apart, outside the session.
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::vector<double> t_load, t_session, t_view, t_first, t_aggregate, t_graph;
    size_t samples = 0, stacks = 0;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = Clock::now();
        kprof::Profile profile = kprof::load_profile(trace);
        t_load.push_back(ms_since(t0));
        samples = profile.samples.size();
        stacks = profile.stacks.size();
        const auto t1 = Clock::now();
        kprof::tui::Session s(std::move(profile), trace);
        t_session.push_back(ms_since(t1));
        const auto t2 = Clock::now();
        kprof::tui::App a(s);
        const kprof::tui::Screen screen = a.screen(vp);
        t_view.push_back(ms_since(t2));
        t_first.push_back(ms_since(t0));
        const auto t3 = Clock::now();
        const kprof::AggregatedProfile agg = kprof::aggregate(s.profile());
        t_aggregate.push_back(ms_since(t3));
        const auto t4 = Clock::now();
        const kprof::CallGraph graph(agg);
        t_graph.push_back(ms_since(t4));
        if (screen.body.size() < 2) {
            std::fprintf(stderr, "tui_bench: the home screen is empty\n");
            return 1;
        }
    }
    kprof::tui::Session session(kprof::load_profile(trace), trace);
    kprof::tui::App app(session);
    const kprof::tui::Screen first = app.screen(vp);
    const double first_ms = median(t_first),
                 worst_first = *std::max_element(t_first.begin(), t_first.end());
    std::printf("trace: %s: %zu samples, %zu unique stacks, %zu functions\n", trace.c_str(),
                samples, stacks, session.graph().function_count());
    std::printf(
        "first screen: median %.1f ms, max %.1f ms of %d (load %.1f, aggregate+graph %.1f "
        "[aggregate %.1f, graph %.1f], home view %.1f)  %s\n",
        first_ms, worst_first, repeat, median(t_load), median(t_session), median(t_aggregate),
        median(t_graph), median(t_view), first_ms < 500 ? "ok (< 500 ms)" : "OVER 500 ms");
    if (first.body.size() < 2) {
        std::fprintf(stderr, "tui_bench: the home screen is empty\n");
        return 1;
    }

    // One walk through every view; each step is timed (key handling + next screen).
    const std::vector<Step> steps = {
        {"Down", {code(KeyCode::down)}},
        {"PgDn", {code(KeyCode::page_down)}},
        {"End", {code(KeyCode::end)}},
        {"Home", {code(KeyCode::home)}},
        {"s (total)", {chr('s')}},
        {"s (name)", {chr('s')}},
        {"s (self)", {chr('s')}},
        {"k (kernel)", {chr('k')}},
        {"k (user)", {chr('k')}},
        {"k (all)", {chr('k')}},
        {"/", {chr('/')}},
        {"type f", {chr('f')}},
        {"type u", {chr('u')}},
        {"type n", {chr('n')}},
        {"type c", {chr('c')}},
        {"Enter (end search)", {code(KeyCode::enter)}},
        {"n", {chr('n')}},
        {"N", {chr('N')}},
        {"Home", {code(KeyCode::home)}},
        {"Enter (open function)", {code(KeyCode::enter)}},
        {"Down (callee)", {code(KeyCode::down)}},
        {"Enter (re-centre)", {code(KeyCode::enter)}},
        {"Up (caller)", {code(KeyCode::up)}},
        {"Up", {code(KeyCode::up)}},
        {"Enter (re-centre)", {code(KeyCode::enter)}},
        {"Backspace (history)", {code(KeyCode::backspace)}},
        {"c (collapse cycles)", {chr('c')}},
        {"c", {chr('c')}},
        {"p (paths)", {chr('p')}},
        {"Down", {code(KeyCode::down)}},
        {"Esc", {code(KeyCode::escape)}},
        {"t (call tree)", {chr('t')}},
        {"E (hottest path)", {chr('E')}},
        {"PgDn", {code(KeyCode::page_down)}},
        {"- (collapse)", {chr('-')}},
        {"+ (expand)", {chr('+')}},
        {"i (invert)", {chr('i')}},
        {"Enter (expand)", {code(KeyCode::enter)}},
        {"i (back to top-down)", {chr('i')}},
        {"Esc", {code(KeyCode::escape)}},
        {"g (flame graph)", {chr('g')}},
        {"Down", {code(KeyCode::down)}},
        {"Right", {code(KeyCode::right)}},
        {"Enter (zoom)", {code(KeyCode::enter)}},
        {"Esc (zoom out)", {code(KeyCode::escape)}},
        {"Esc", {code(KeyCode::escape)}},
        {"f (focus)", {chr('f')}},
        {"F (clear focus)", {chr('F')}},
        {"e (next event)", {chr('e')}},
        {"I (info)", {chr('I')}},
        {"Esc", {code(KeyCode::escape)}},
        {"? (help)", {chr('?')}},
        {"Esc", {code(KeyCode::escape)}},
        {"Backspace (home)", {code(KeyCode::backspace)}},
    };
    std::vector<std::vector<double>> times(steps.size());
    for (int r = 0; r < repeat; ++r) {
        // Each round starts from the home screen in its initial state.
        kprof::tui::App round(session);
        round.screen(vp);
        for (size_t i = 0; i < steps.size(); ++i) {
            const auto t = Clock::now();
            for (const Key& k : steps[i].keys) round.handle(k);
            round.screen(vp);
            times[i].push_back(ms_since(t));
        }
        if (session.focused_function()) session.clear_focus();
    }
    double worst = 0;
    std::string worst_label;
    std::printf("%-24s %10s %10s\n", "key", "median ms", "max ms");
    for (size_t i = 0; i < steps.size(); ++i) {
        auto v = times[i];
        std::sort(v.begin(), v.end());
        const double median = v[v.size() / 2], max = v.back();
        std::printf("%-24s %10.2f %10.2f%s\n", steps[i].label.c_str(), median, max,
                    max >= 50 ? "  OVER 50 ms" : "");
        if (max > worst) {
            worst = max;
            worst_label = steps[i].label;
        }
    }
    std::printf("slowest key: %s, %.2f ms  %s\n", worst_label.c_str(), worst,
                worst < 50 ? "ok (< 50 ms)" : "OVER 50 ms");
    return 0;
}
