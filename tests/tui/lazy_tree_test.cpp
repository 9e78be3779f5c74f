#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "analyzer/flame.hpp"
#include "analyzer/tree.hpp"
#include "fixtures.hpp"

namespace kprof::tui {
namespace {

using testing::make_session;

// Every path of the tree with its (total, self), e.g. "main;compute" -> (40, 40).
using Paths = std::map<std::string, std::pair<uint64_t, uint64_t>>;

Paths paths_of(const CallTree& t, const Session& s) {
    Paths out;
    for (TreeNodeId id = 1; id < t.size(); ++id) {
        std::string key;
        for (TreeNodeId n : t.path_to(id)) key += s.name(t.node(n).function) + ";";
        out[key] = {t.node(id).total, t.node(id).self};
    }
    return out;
}

Paths paths_of(LazyTree& t, const Session& s) {
    Paths out;
    std::vector<TreeNodeId> todo{LazyTree::root()};
    while (!todo.empty()) {
        const TreeNodeId id = todo.back();
        todo.pop_back();
        for (TreeNodeId c : t.children(id)) todo.push_back(c);
        if (id == LazyTree::root()) continue;
        std::string key;
        for (TreeNodeId n : t.path_to(id)) key += s.name(t.node(n).function) + ";";
        out[key] = {t.node(id).total, t.node(id).self};
    }
    return out;
}

TEST(LazyTree, SameNumbersAsTheAnalyzersCallTree) {
    auto s = make_session();
    for (bool inverted : {false, true}) {
        const CallTree full = inverted ? CallTree::bottom_up(s->aggregated(), 0)
                                       : CallTree::top_down(s->aggregated(), 0);
        LazyTree lazy(s->aggregated(), 0, inverted);
        EXPECT_EQ(lazy.node(LazyTree::root()).total, full.node(CallTree::root()).total);
        EXPECT_EQ(paths_of(lazy, *s), paths_of(full, *s)) << "inverted " << inverted;
    }
}

TEST(LazyTree, ChildrenAreMadeOnlyWhenAsked) {
    auto s = make_session();
    LazyTree t(s->aggregated(), 0, false);
    EXPECT_EQ(t.size(), 1u);
    const auto roots = t.children(LazyTree::root());
    EXPECT_EQ(roots.size(), 2u);
    EXPECT_EQ(t.size(), 3u);
    EXPECT_FALSE(t.node(roots[0]).built);
    EXPECT_TRUE(t.has_children(roots[0]));
}

TEST(LazyTree, FlameLayoutMatchesTheAnalyzers) {
    auto s = make_session();
    const CallTree full = CallTree::top_down(s->aggregated(), 0);
    const FlameLayout expected = flame_layout(full, 5);
    LazyTree t(s->aggregated(), 0, false);
    const FlameLayout got = flame_layout(t, 5);
    EXPECT_EQ(got.total, expected.total);
    EXPECT_EQ(got.max_depth, expected.max_depth);
    // Same frames (function, depth, x, width), whatever order each lists them in.
    auto key = [](const FlameLayout& l) {
        std::multiset<std::tuple<FunctionId, uint32_t, uint64_t, uint64_t, bool>> k;
        for (const FlameFrame& f : l.frames)
            k.insert({f.function, f.depth, f.x, f.width, f.kernel});
        return k;
    };
    EXPECT_EQ(key(got), key(expected));
}

}  // namespace
}  // namespace kprof::tui
