// Call graph weights on folded stacks, with the expected numbers worked out by hand in
// the comments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyzer/flame.hpp"
#include "analyzer/paths.hpp"
#include "analyzer/tree.hpp"
#include "analyzer_test_util.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

using testing::analyze_folded;
using ::testing::ElementsAre;

// Self sums to the attributed total; every total >= self and >= each incoming arc.
void expect_invariants(const CallGraph& g) {
    for (size_t e = 0; e < g.event_count(); ++e) {
        uint64_t self_sum = 0;
        for (FunctionId f = 0; f < g.function_count(); ++f) {
            self_sum += g.self(f, e);
            EXPECT_GE(g.total(f, e), g.self(f, e));
            for (const Arc& a : g.callers(f, e)) EXPECT_GE(g.total(f, e), g.arc_weight(a.id, e));
            for (const Arc& a : g.callees(f, e)) EXPECT_GE(g.total(f, e), g.arc_weight(a.id, e));
        }
        EXPECT_EQ(self_sum + g.profile().events()[e].unattributed, g.total_weight(e));
    }
}

TEST(CallGraph, RecursionCountsEachFunctionAndArcOncePerStack) {
    // prog;main;A;B;A 10 and prog;main;A;C 5:
    //   self: A 10 (leaf of the first stack), C 5; main 0, B 0.
    //   total: main 15, A 15 (once per stack, although twice in the first), B 10, C 5.
    //   arcs: main->A 15, A->B 10, B->A 10, A->C 5.
    auto a = analyze_folded("prog;main;A;B;A 10\nprog;main;A;C 5\n");
    EXPECT_EQ(a->graph->total_weight(0), 15u);
    EXPECT_EQ(a->self("A"), 10u);
    EXPECT_EQ(a->self("C"), 5u);
    EXPECT_EQ(a->self("main"), 0u);
    EXPECT_EQ(a->total("main"), 15u);
    EXPECT_EQ(a->total("A"), 15u);
    EXPECT_EQ(a->total("B"), 10u);
    EXPECT_EQ(a->total("C"), 5u);
    EXPECT_EQ(a->arc("main", "A"), 15u);
    EXPECT_EQ(a->arc("A", "B"), 10u);
    EXPECT_EQ(a->arc("B", "A"), 10u);
    EXPECT_EQ(a->arc("A", "C"), 5u);
    EXPECT_EQ(a->arc("main", "C"), 0u);
    EXPECT_EQ(a->graph->root_weight(a->id("main"), 0), 15u);
    // A and B call each other: one cycle, entered by every stack through A.
    ASSERT_EQ(a->graph->cycles().size(), 1u);
    EXPECT_EQ(a->graph->cycle_of(a->id("A")), 1);
    EXPECT_EQ(a->graph->cycle_of(a->id("B")), 1);
    EXPECT_EQ(a->graph->cycle_of(a->id("main")), 0);
    EXPECT_EQ(a->graph->cycle_total(1, 0), 15u);
    EXPECT_EQ(a->graph->cycle_self(1, 0), 10u);
    expect_invariants(*a->graph);
}

TEST(CallGraph, MutualRecursionFormsOneCycle) {
    // main;even;odd;even 3, main;odd;even;odd 2, main;leaf 5:
    //   self even 3, odd 2, leaf 5; total even 5, odd 5, main 10.
    //   arcs: main->even 3, main->odd 2, main->leaf 5,
    //         even->odd 3 (stack 1) + 2 (stack 2) = 5, odd->even 3 + 2 = 5.
    //   arc self (callee is the leaf): odd->even 3, even->odd 2, main->leaf 5.
    auto a =
        analyze_folded("prog;main;even;odd;even 3\nprog;main;odd;even;odd 2\nprog;main;leaf 5\n");
    EXPECT_EQ(a->self("even"), 3u);
    EXPECT_EQ(a->self("odd"), 2u);
    EXPECT_EQ(a->total("even"), 5u);
    EXPECT_EQ(a->total("odd"), 5u);
    EXPECT_EQ(a->total("main"), 10u);
    EXPECT_EQ(a->arc("even", "odd"), 5u);
    EXPECT_EQ(a->arc("odd", "even"), 5u);
    EXPECT_EQ(a->arc("main", "odd"), 2u);
    const CallGraph& g = *a->graph;
    for (const Arc& arc : g.callees(a->id("odd"), 0)) {
        if (arc.callee == a->id("even")) {
            EXPECT_EQ(g.arc_self(arc.id, 0), 3u);
        }
    }
    for (const Arc& arc : g.callees(a->id("even"), 0)) {
        if (arc.callee == a->id("odd")) {
            EXPECT_EQ(g.arc_self(arc.id, 0), 2u);
        }
    }
    ASSERT_EQ(g.cycles().size(), 1u);
    EXPECT_THAT(g.cycles()[0].members.size(), 2u);
    EXPECT_EQ(g.cycle_total(1, 0), 5u);
    EXPECT_EQ(g.cycle_self(1, 0), 5u);
    EXPECT_EQ(g.cycle_of(a->id("leaf")), 0);
    expect_invariants(g);
}

TEST(CallGraph, SingleFrameStack) {
    auto a = analyze_folded("prog;only 7\n");
    EXPECT_EQ(a->self("only"), 7u);
    EXPECT_EQ(a->total("only"), 7u);
    EXPECT_EQ(a->graph->root_weight(a->id("only"), 0), 7u);
    EXPECT_EQ(a->graph->arc_count(), 0u);
    EXPECT_TRUE(a->graph->cycles().empty());
    expect_invariants(*a->graph);
}

TEST(CallGraph, EmptyTrace) {
    auto a = analyze_folded("");
    EXPECT_EQ(a->agg.stack_count(), 0u);
    ASSERT_EQ(a->agg.event_count(), 1u);
    EXPECT_EQ(a->agg.total(0), 0u);
    EXPECT_TRUE(a->graph->by_total(0).empty());
    expect_invariants(*a->graph);
}

TEST(CallGraph, KernelFramesAreFlaggedAndShareTheGraph) {
    auto a = analyze_folded(
        "ping;main;sendto;entry_SYSCALL_64_[k];__sys_sendto_[k] 6\nping;main;compute 3\n");
    EXPECT_TRUE(a->agg.function(a->id("__sys_sendto")).kernel);
    EXPECT_TRUE(a->agg.function(a->id("entry_SYSCALL_64")).kernel);
    EXPECT_FALSE(a->agg.function(a->id("sendto")).kernel);
    EXPECT_EQ(a->arc("sendto", "entry_SYSCALL_64"), 6u);
    EXPECT_EQ(a->total("main"), 9u);
    const CallTree tree = CallTree::top_down(a->agg, 0);
    size_t crossings = 0;
    for (TreeNodeId n = 1; n < tree.size(); ++n)
        if (tree.crosses_boundary(n)) {
            ++crossings;
            EXPECT_EQ(a->agg.function(tree.node(n).function).name, "entry_SYSCALL_64");
        }
    EXPECT_EQ(crossings, 1u);
}

TEST(CallGraph, SameStackUnderTwoCommsStaysApart) {
    auto a = analyze_folded("a;main;f 1\nb;main;f 2\na;main;f 3\n");
    EXPECT_EQ(a->agg.stack_count(), 2u);
    EXPECT_EQ(a->total("f"), 6u);
}

TEST(Filters, KernelOnlyAndUserOnly) {
    const std::string text =
        "ping;main;sendto;entry_SYSCALL_64_[k];__sys_sendto_[k] 6\nping;main;compute 3\n";
    AggregateOptions k;
    k.filters.kernel_only = true;
    auto kernel = analyze_folded(text, k);
    EXPECT_EQ(kernel->agg.total(0), 6u);  // the user-only stack is dropped
    EXPECT_EQ(kernel->agg.find_function("main") == kNoFunction ||
                  !kernel->graph->present(kernel->agg.find_function("main")),
              true);
    EXPECT_EQ(kernel->graph->root_weight(kernel->id("entry_SYSCALL_64"), 0), 6u);

    AggregateOptions u;
    u.filters.user_only = true;
    auto user = analyze_folded(text, u);
    EXPECT_EQ(user->agg.total(0), 9u);
    EXPECT_EQ(user->self("sendto"), 6u);
}

TEST(Filters, FocusIgnoreHide) {
    const std::string text = "p;main;a;x 4\np;main;b;y 3\np;main;c 2\n";
    AggregateOptions focus;
    focus.filters.focus = "^(a|b)$";
    auto f = analyze_folded(text, focus);
    EXPECT_EQ(f->agg.total(0), 7u);

    AggregateOptions ignore;
    ignore.filters.ignore = "^y$";
    auto i = analyze_folded(text, ignore);
    EXPECT_EQ(i->agg.total(0), 6u);

    // Hiding a frame keeps the sample and attaches it to the frame's caller.
    AggregateOptions hide;
    hide.filters.hide = "^(a|b)$";
    auto h = analyze_folded(text, hide);
    EXPECT_EQ(h->agg.total(0), 9u);
    EXPECT_EQ(h->arc("main", "x"), 4u);
    EXPECT_EQ(h->arc("main", "y"), 3u);

    AggregateOptions bad;
    bad.filters.focus = "(";
    EXPECT_THROW(analyze_folded(text, bad), Error);
}

TEST(Filters, CommAndTimeSlices) {
    // Folded samples are timed by line: 4 lines, times 0..3.
    const std::string text = "a;f 1\nb;g 2\na;h 4\nb;i 8\n";
    AggregateOptions comm;
    comm.filters.comms = {"b"};
    EXPECT_EQ(analyze_folded(text, comm)->agg.total(0), 10u);

    AggregateOptions first_half;
    first_half.filters.time = TimeRange::parse("0%,50%");
    // 50% of the span 0..3 is 1.5: lines 0 and 1.
    EXPECT_EQ(analyze_folded(text, first_half)->agg.total(0), 3u);
    AggregateOptions tail;
    tail.filters.time = TimeRange::parse("0.000000002,");
    EXPECT_EQ(analyze_folded(text, tail)->agg.total(0), 12u);
}

TEST(Filters, ParsingErrorsSayWhatIsExpected) {
    EXPECT_THROW(TimeRange::parse("5"), Error);
    EXPECT_THROW(TimeRange::parse("2,1"), Error);
    EXPECT_THROW(TimeRange::parse("x,1"), Error);
    EXPECT_THROW(TimeRange::parse("1,20%"), Error);
    EXPECT_TRUE(TimeRange::parse("10%,20%").percent);
    EXPECT_THAT(parse_id_list("0,2,5-7"), ElementsAre(0u, 2u, 5u, 6u, 7u));
    EXPECT_THROW(parse_id_list("1,a"), Error);
    EXPECT_THROW(parse_id_list("3-1"), Error);
}

TEST(Weights, FoldedCountsAreSamplesAndPeriods) {
    AggregateOptions period;
    period.weight = WeightKind::period;
    auto p = analyze_folded("p;f 5\np;g 7\n", period);
    auto s = analyze_folded("p;f 5\np;g 7\n");
    EXPECT_EQ(p->agg.total(0), 12u);
    EXPECT_EQ(s->agg.total(0), 12u);
    EXPECT_EQ(s->agg.events()[0].samples, 12u);
}

TEST(Tree, TopDownAndBottomUp) {
    auto a = analyze_folded("prog;main;A;B;A 10\nprog;main;A;C 5\n");
    const CallTree td = CallTree::top_down(a->agg, 0);
    // main(15) -> A(15) -> {B(10) -> A(10, self 10), C(5, self 5)}
    const TreeNode& root = td.node(CallTree::root());
    EXPECT_EQ(root.total, 15u);
    ASSERT_EQ(root.children.size(), 1u);
    const TreeNode& main = td.node(root.children[0]);
    ASSERT_EQ(main.children.size(), 1u);
    const TreeNode& A = td.node(main.children[0]);
    EXPECT_EQ(A.total, 15u);
    ASSERT_EQ(A.children.size(), 2u);
    EXPECT_EQ(td.node(A.children[0]).total, 10u);  // B first: heavier
    EXPECT_EQ(td.node(A.children[1]).total, 5u);
    EXPECT_EQ(td.node(td.node(A.children[0]).children[0]).self, 10u);

    const CallTree bu = CallTree::bottom_up(a->agg, 0);
    // Leaves at the top: A(10) <- B <- A <- main, C(5) <- A <- main.
    const TreeNode& broot = bu.node(CallTree::root());
    ASSERT_EQ(broot.children.size(), 2u);
    EXPECT_EQ(a->agg.function(bu.node(broot.children[0]).function).name, "A");
    EXPECT_EQ(bu.node(broot.children[0]).total, 10u);
    EXPECT_EQ(bu.node(broot.children[0]).self, 0u);
    EXPECT_EQ(bu.path_to(broot.children[0]).size(), 1u);
}

TEST(Paths, HottestPathsToAFunction) {
    auto a = analyze_folded(
        "p;main;tcp_sendmsg;ip_output;xmit 6\np;main;icmp_reply;ip_output;xmit 3\n"
        "p;main;tcp_sendmsg;other 2\n");
    const auto paths = hottest_paths(a->agg, a->id("xmit"));
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(paths[0].weight, 6u);
    EXPECT_EQ(a->agg.function(paths[0].frames[1]).name, "tcp_sendmsg");
    EXPECT_EQ(paths[1].weight, 3u);
    const auto from = hottest_paths(a->agg, a->id("xmit"), {.from = a->id("ip_output")});
    ASSERT_EQ(from.size(), 1u);
    EXPECT_EQ(from[0].weight, 9u);
    EXPECT_EQ(from[0].frames.size(), 2u);
}

TEST(Flame, WidthsAreWeightsAndSiblingsSortByName) {
    auto a = analyze_folded("p;main;b 6\np;main;a 3\np;main 1\n");
    const CallTree td = CallTree::top_down(a->agg, 0);
    const FlameLayout layout = flame_layout(td);
    EXPECT_EQ(layout.total, 10u);
    EXPECT_EQ(layout.max_depth, 2u);
    ASSERT_EQ(layout.frames.size(), 4u);  // all, main, a, b
    EXPECT_EQ(layout.frames[1].width, 10u);
    EXPECT_EQ(a->agg.function(layout.frames[2].function).name, "a");
    EXPECT_EQ(layout.frames[2].x, 0u);
    EXPECT_EQ(layout.frames[2].width, 3u);
    EXPECT_EQ(layout.frames[3].x, 3u);
    EXPECT_EQ(layout.frames[3].width, 6u);
    EXPECT_EQ(flame_layout(td, 4).frames.size(), 3u);  // a (3) is pruned
}

TEST(Aggregate, FocusOnFunctionKeepsStacksThroughIt) {
    auto a = analyze_folded("p;main;x 4\np;main;y 3\n");
    const AggregatedProfile focused = a->agg.focus_on(a->id("y"));
    EXPECT_EQ(focused.total(0), 3u);
    EXPECT_EQ(focused.stack_count(), 1u);
}

TEST(Aggregate, FocusCopiesOnlyTheShapesItKeeps) {
    // Two comms share the shape main;y: one shape kept for two stacks, x's dropped.
    auto a = analyze_folded("p;main;x 4\np;main;y 3\nq;main;y 2\np;main;y;z 1\n");
    const AggregatedProfile focused = a->agg.focus_on(a->id("y"));
    EXPECT_EQ(focused.stack_count(), 3u);
    ASSERT_EQ(focused.shape_count(), 2u);
    EXPECT_EQ(focused.shape(0), focused.shape(1));  // both comms' main;y
    std::vector<std::string> names;
    for (FunctionId f : focused.frames(2)) names.push_back(focused.function(f).name);
    EXPECT_THAT(names, ElementsAre("main", "y", "z"));
    // The graph of the focus has the same numbers as the focused stacks alone.
    const CallGraph g(focused);
    expect_invariants(g);
    EXPECT_EQ(g.total(a->id("y"), 0), 6u);
    EXPECT_EQ(g.self(a->id("y"), 0), 5u);
    EXPECT_EQ(g.total(a->id("x"), 0), 0u);
    EXPECT_FALSE(g.present(a->id("x")));
}

TEST(ImportFolded, RejectsMalformedLines) {
    EXPECT_THROW(import_folded_text("p;a;b\n"), Error);
    EXPECT_THROW(import_folded_text("p;a;b x\n"), Error);
    EXPECT_THROW(import_folded_text("p;a;b 1.5\n"), Error);
    const Profile p = import_folded_text("# comment\n\np;a_[k] 2\r\n");
    ASSERT_EQ(p.samples.size(), 1u);
    EXPECT_EQ(p.samples[0].period, 2u);
    EXPECT_EQ(p.stacks.get(p.samples[0].stack).kernel_depth, 1u);
    ASSERT_EQ(p.kernel_symbols.size(), 1u);
    EXPECT_EQ(p.kernel_symbols[0].name, "a");
}

}  // namespace
}  // namespace kprof
