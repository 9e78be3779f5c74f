#include <gtest/gtest.h>

#include "symbols/resolve.hpp"
#include "trace/trace_test_util.hpp"

namespace kprof {
namespace {

// One process (pid 42, generation 1) with an executable mapped at file offset 0x1000, and
// the same range remapped later to another dso: the later mapping must win.
Profile user_profile() {
    Profile p = test::make_profile({.samples = 1, .stacks = 1});
    Dso other{.path = "/opt/other.so", .symbolized = true};
    other.symbols = {DsoSymbol{.start = 0x0, .size = 0x10, .name = "other_fn"}};
    p.dsos.push_back(other);
    p.mappings.push_back(Mapping{.pid = 42,
                                 .generation = 1,
                                 .start = 0x555555555800ULL,
                                 .len = 0x100,
                                 .pgoff = 0,
                                 .time_ns = 50,
                                 .dso = 2});
    // Generation 2 (after an exec) maps something else at the executable's address.
    p.mappings.push_back(Mapping{.pid = 42,
                                 .generation = 2,
                                 .start = 0x555555554000ULL,
                                 .len = 0x2000,
                                 .pgoff = 0,
                                 .time_ns = 60,
                                 .dso = 2});
    return p;
}

Location resolve_one(const Profile& p, std::vector<uint64_t> ips, uint32_t kernel_depth,
                     size_t index, uint32_t generation = 1) {
    const FrameResolver r(p);
    const StackView view{
        .ips = ips, .kernel_depth = kernel_depth, .pid = 42, .generation = generation};
    std::vector<Location> out;
    r.resolve(view, index, out);
    EXPECT_FALSE(out.empty());
    EXPECT_FALSE(out.back().inlined);
    return out.back();  // the containing function; inlined frames come before it
}

TEST(UserResolve, FileOffsetConvention) {
    const Profile p = user_profile();
    // ip - start + pgoff = 0x555555554110 - 0x555555554000 + 0x1000 = 0x1110: main+0x10.
    const Location l = resolve_one(p, {0x555555554110ULL}, 0, 0);
    EXPECT_EQ(l.function, "main");
    EXPECT_EQ(l.offset, 0x10u);
    EXPECT_EQ(l.module, "/usr/bin/target");
    EXPECT_EQ(l.file, "t.c");
    EXPECT_EQ(l.line, 7u);
    EXPECT_TRUE(l.resolved);
    EXPECT_FALSE(l.kernel);
    EXPECT_EQ(resolve_one(p, {0x55555555423fULL}, 0, 0).function, "work");
}

TEST(UserResolve, InlinedFramesComeFirstUnlessTurnedOff) {
    const Profile p = user_profile();
    const std::vector<uint64_t> ips{0x555555554110ULL};
    const StackView view{.ips = ips, .kernel_depth = 0, .pid = 42, .generation = 1};
    std::vector<Location> out;
    FrameResolver(p).resolve(view, 0, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].function, "inlined_helper");
    EXPECT_TRUE(out[0].inlined);
    EXPECT_EQ(out[0].file, "h.h");
    EXPECT_EQ(out[1].function, "main");
    out.clear();
    FrameResolver(p, ResolveOptions{.inline_frames = false}).resolve(view, 0, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].function, "main");
    // Without inlined frames the position is where the outermost inlined call was.
    EXPECT_EQ(out[0].line, 7u);
}

TEST(UserResolve, PastASymbolsSizeIsUnknownWithTheDsoName) {
    const Profile p = user_profile();
    // 0x1180 is past main (0x1100 + 0x80) and before work (0x1200).
    const Location l = resolve_one(p, {0x555555554180ULL}, 0, 0);
    EXPECT_EQ(l.function, "[unknown]");
    EXPECT_EQ(l.module, "target");
    EXPECT_FALSE(l.resolved);
    // No symbols at all for libc: still named by its dso.
    EXPECT_EQ(resolve_one(p, {0x7ffff7c01234ULL}, 0, 0).module, "libc.so.6");
}

TEST(UserResolve, NoMappingIsUnknown) {
    const Profile p = user_profile();
    const Location l = resolve_one(p, {0x1000ULL}, 0, 0);
    EXPECT_EQ(l.function, "[unknown]");
    EXPECT_EQ(l.module, "[unknown]");
    // Mapping end is exclusive.
    EXPECT_EQ(resolve_one(p, {0x555555556000ULL}, 0, 0).module, "[unknown]");
}

TEST(UserResolve, LaterMappingOverridesEarlierOverlap) {
    const Profile p = user_profile();
    EXPECT_EQ(resolve_one(p, {0x555555555804ULL}, 0, 0).function, "other_fn");
    // Either side of the overlay the executable is still mapped.
    EXPECT_EQ(resolve_one(p, {0x5555555557f0ULL}, 0, 0).module, "target");
    EXPECT_EQ(resolve_one(p, {0x555555555900ULL}, 0, 0).module, "target");
}

TEST(UserResolve, GenerationSeparatesImagesAcrossExec) {
    const Profile p = user_profile();
    EXPECT_EQ(resolve_one(p, {0x555555554110ULL}, 0, 0, 2).module, "other.so");
    EXPECT_EQ(resolve_one(p, {0x555555554110ULL}, 0, 0, 7).module, "[unknown]");
}

TEST(UserResolve, KernelPartOfAStackUsesKallsyms) {
    const Profile p = user_profile();
    const std::vector<uint64_t> ips{0xffffffff81001010ULL, 0x555555554110ULL};
    const Location k = resolve_one(p, ips, 1, 0);
    EXPECT_EQ(k.function, "tcp_sendmsg");
    EXPECT_TRUE(k.kernel);
    EXPECT_EQ(resolve_one(p, ips, 1, 1).function, "main");
}

}  // namespace
}  // namespace kprof
