// The DWARF unwinder (symbols/unwind.hpp) on samples taken inside this process: the
// fixture library (unwind_lib.c, -O2 -fomit-frame-pointer, no -g) copies its registers and
// stack as perf does with a sample, and the unwinder must find its callers from .eh_frame
// through this process's real mappings. Also perf's register order, cut and corrupt copies,
// the frame limit, and mappings that are unknown, dropped or not yet mapped.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "symbols/unwind.hpp"
#include "symbols_helpers.hpp"

namespace kprof {
namespace {

struct Capture {
    uint64_t regs[17];
    uint64_t stack_end;
    uint64_t size;
    uint8_t* stack;
};
using OuterFn = uint64_t (*)(Capture*, uint64_t);

// One sample of the fixture's leaf, taken once for all tests.
struct Sample {
    UserRegisters regs;
    std::vector<uint8_t> stack;
    std::vector<test::MapsLine> maps;
};

class UnwindTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        lib_ = ::dlopen(KPROF_UNWIND_LIB, RTLD_NOW);
        ASSERT_NE(lib_, nullptr) << ::dlerror();
        auto outer = reinterpret_cast<OuterFn>(::dlsym(lib_, "unwind_lib_outer"));
        ASSERT_NE(outer, nullptr);
        sample_ = new Sample;
        sample_->maps = test::read_maps(::getpid());
        Capture c{};
        for (const test::MapsLine& m : sample_->maps)
            if (m.path == "[stack]") c.stack_end = m.end;
        ASSERT_NE(c.stack_end, 0u) << "no [stack] in /proc/self/maps";
        // The whole stack up to its top, so that the unwind can reach _start.
        sample_->stack.resize(1 << 20);
        c.size = sample_->stack.size();
        c.stack = sample_->stack.data();
        outer(&c, 1);
        sample_->stack.resize(c.size);
        std::copy(std::begin(c.regs), std::end(c.regs), sample_->regs.dwarf.begin());
    }
    static void TearDownTestSuite() {
        delete sample_;
        sample_ = nullptr;
    }

    // This process's executable mappings, as MMAP2 records would give them.
    static void add_own_mappings(UserUnwinder& u, uint64_t space, uint64_t time_ns = 0) {
        for (const test::MapsLine& m : sample_->maps)
            if (m.perms.find('x') != std::string::npos && !m.path.empty())
                u.add_mapping(space, static_cast<uint32_t>(::getpid()),
                              UnwindMapping{.start = m.start,
                                            .len = m.end - m.start,
                                            .pgoff = m.pgoff,
                                            .time_ns = time_ns,
                                            .path = m.path});
    }

    // The fixture function holding each pc ("" outside the fixture library).
    static std::vector<std::string> names(const std::vector<uint64_t>& ips) {
        std::vector<std::string> out;
        for (size_t i = 0; i < ips.size(); ++i) {
            Dl_info info{};
            // A return address can be the first byte after its function: look up the call.
            const uint64_t pc = i == 0 ? ips[i] : ips[i] - 1;
            const bool known = ::dladdr(reinterpret_cast<void*>(pc), &info) != 0 &&
                               info.dli_sname != nullptr &&
                               std::strncmp(info.dli_sname, "unwind_lib_", 11) == 0;
            out.push_back(known ? info.dli_sname : "");
        }
        return out;
    }

    static void* lib_;
    static Sample* sample_;
};

void* UnwindTest::lib_ = nullptr;
Sample* UnwindTest::sample_ = nullptr;

TEST(UnwindRegisters, PerfOrderBecomesDwarfOrder) {
    // One word per mask bit, lowest bit first: AX BX CX DX SI DI BP SP IP R8..R15.
    std::vector<uint64_t> words;
    for (unsigned bit = 0; bit < 24; ++bit)
        if (kUnwindRegsMask & (1ULL << bit)) words.push_back(100 + bit);
    UserRegisters r;
    ASSERT_TRUE(user_registers_from_perf(kUnwindRegsMask, words, r));
    const std::array<uint64_t, 17> want = {100, 103, 102, 101, 104, 105, 106, 107, 116,
                                           117, 118, 119, 120, 121, 122, 123, 108};
    EXPECT_EQ(r.dwarf, want);
    EXPECT_EQ(r.sp(), 107u);
    EXPECT_EQ(r.ip(), 108u);
}

TEST(UnwindRegisters, PerfsWiderMaskKeepsTheDwarfRegisters) {
    // perf record asks for FLAGS, CS and SS too (bits 9-11): their words are skipped.
    const uint64_t mask = kUnwindRegsMask | (0x7ULL << 9);
    std::vector<uint64_t> words;
    for (unsigned bit = 0; bit < 24; ++bit)
        if (mask & (1ULL << bit)) words.push_back(100 + bit);
    UserRegisters r;
    ASSERT_TRUE(user_registers_from_perf(mask, words, r));
    EXPECT_EQ(r.ip(), 108u);
    EXPECT_EQ(r.dwarf[8], 116u);  // r8 comes after FLAGS, CS and SS
}

TEST(UnwindRegisters, MissingRegistersAreRefused) {
    UserRegisters r;
    const uint64_t no_ip = kUnwindRegsMask & ~(1ULL << 8);
    EXPECT_FALSE(user_registers_from_perf(no_ip, std::vector<uint64_t>(16), r));
    EXPECT_FALSE(user_registers_from_perf(kUnwindRegsMask, std::vector<uint64_t>(5), r));
}

TEST_F(UnwindTest, CallersWithoutFramePointersAreFoundThroughEhFrame) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    std::vector<uint64_t> ips;
    const UnwindEnd end = u.unwind(1, sample_->regs, sample_->stack, 127, ips);
    ASSERT_GE(ips.size(), 4u);
    EXPECT_EQ(ips[0], sample_->regs.ip());
    const std::vector<std::string> n = names(ips);
    EXPECT_EQ(
        std::vector<std::string>(n.begin(), n.begin() + 3),
        (std::vector<std::string>{"unwind_lib_leaf", "unwind_lib_middle", "unwind_lib_outer"}));
    // The whole stack was copied: the unwind goes on through the test and gtest to _start.
    EXPECT_EQ(end, UnwindEnd::kOutermost) << unwind_end_name(end);
    EXPECT_GT(ips.size(), 8u);
    EXPECT_EQ(u.stats().stacks, 1u);
    EXPECT_EQ(u.stats().count(UnwindEnd::kOutermost), 1u);
    EXPECT_EQ(u.stats().frames, ips.size());
    EXPECT_GE(u.stats().binaries, 2u);  // the fixture library and this test binary
}

TEST_F(UnwindTest, ASecondUnwindOfTheSameSpaceGivesTheSameFrames) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    std::vector<uint64_t> first, second;
    u.unwind(1, sample_->regs, sample_->stack, 127, first);
    const uint64_t opened = u.stats().binaries;
    u.unwind(1, sample_->regs, sample_->stack, 127, second);
    EXPECT_EQ(first, second);
    EXPECT_EQ(u.stats().binaries, opened) << "binaries are opened once per space";
}

TEST_F(UnwindTest, AShortStackCopyStopsTheUnwindAndSaysSo) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    std::vector<uint64_t> whole, ips;
    u.unwind(1, sample_->regs, sample_->stack, 127, whole);
    const std::span<const uint8_t> cut(sample_->stack.data(), 64);
    const UnwindEnd end = u.unwind(1, sample_->regs, cut, 127, ips);
    EXPECT_EQ(end, UnwindEnd::kStackCopy) << unwind_end_name(end);
    ASSERT_FALSE(ips.empty());
    EXPECT_LT(ips.size(), whole.size());
    EXPECT_TRUE(std::equal(ips.begin(), ips.end(), whole.begin())) << "a prefix of the whole";
    EXPECT_EQ(names(ips)[0], "unwind_lib_leaf");
    EXPECT_NE(describe_unwinding(u.stats(), 64).find("--call-graph dwarf,128"), std::string::npos)
        << describe_unwinding(u.stats(), 64);
}

TEST_F(UnwindTest, TheFrameLimitCutsTheStack) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    std::vector<uint64_t> ips = {0xffffffff81000000ULL};  // a kernel frame before: kept
    EXPECT_EQ(u.unwind(1, sample_->regs, sample_->stack, 2, ips), UnwindEnd::kMaxDepth);
    ASSERT_EQ(ips.size(), 3u);
    EXPECT_EQ(ips[0], 0xffffffff81000000ULL);
    EXPECT_EQ(names({ips[1], ips[2]}),
              (std::vector<std::string>{"unwind_lib_leaf", "unwind_lib_middle"}));
}

TEST_F(UnwindTest, WithoutMappingsOnlyTheSampledPcIsKnown) {
    UserUnwinder u;
    std::vector<uint64_t> ips;
    const UnwindEnd end = u.unwind(7, sample_->regs, sample_->stack, 127, ips);
    EXPECT_NE(end, UnwindEnd::kOutermost);
    ASSERT_FALSE(ips.empty());
    EXPECT_EQ(ips[0], sample_->regs.ip());
    // No frame pointer leads to the fixture's callers.
    const std::vector<std::string> n = names(ips);
    EXPECT_EQ(std::count(n.begin(), n.end(), "unwind_lib_outer"), 0);
}

TEST_F(UnwindTest, DroppedAndLaterMappingsAreNotUsed) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    add_own_mappings(u, 2, /*time_ns=*/5000);
    std::vector<uint64_t> ips;
    u.unwind(1, sample_->regs, sample_->stack, 127, ips);
    EXPECT_GE(ips.size(), 4u);
    u.drop(1);
    EXPECT_EQ(u.live_spaces(), 1u);
    ips.clear();
    EXPECT_NE(u.unwind(1, sample_->regs, sample_->stack, 127, ips), UnwindEnd::kOutermost);
    EXPECT_LT(ips.size(), 4u);
    // Space 2's binaries were mapped at 5000 ns: a sample at 4000 ns precedes them.
    ips.clear();
    EXPECT_NE(u.unwind(2, sample_->regs, sample_->stack, 127, ips, 4000), UnwindEnd::kOutermost);
    EXPECT_LT(ips.size(), 4u);
    ips.clear();
    EXPECT_EQ(u.unwind(2, sample_->regs, sample_->stack, 127, ips, 6000), UnwindEnd::kOutermost);
}

TEST_F(UnwindTest, CorruptStacksEndWithinTheLimitWithoutCrashing) {
    UserUnwinder u;
    add_own_mappings(u, 1);
    // Above the leaf's own frame, garbage: words pointing back into the copy, into the
    // fixture's code, or anywhere.
    uint64_t seed = 88172645463325252ULL;
    const auto* lib_code = reinterpret_cast<const uint8_t*>(::dlsym(lib_, "unwind_lib_middle"));
    for (int round = 0; round < 50; ++round) {
        std::vector<uint8_t> stack(
            sample_->stack.begin(),
            sample_->stack.begin() + std::min<size_t>(sample_->stack.size(), 4096));
        for (size_t at = 16 + static_cast<size_t>(round % 5) * 8; at + 8 <= stack.size(); at += 8) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            uint64_t w = seed;
            if (seed % 3 == 0) w = sample_->regs.sp() + seed % stack.size();
            if (seed % 3 == 1) w = reinterpret_cast<uint64_t>(lib_code) + seed % 64;
            std::memcpy(stack.data() + at, &w, 8);
        }
        std::vector<uint64_t> ips;
        u.unwind(1, sample_->regs, stack, 64, ips);
        ASSERT_FALSE(ips.empty());
        ASSERT_LE(ips.size(), 64u);
        EXPECT_EQ(ips[0], sample_->regs.ip());
    }
    EXPECT_EQ(u.stats().stacks, 50u);
}

TEST(UnwindDescription, SaysWhereStacksEnded) {
    UnwindStats s;
    s.stacks = 200;
    s.frames = 1800;
    s.ends[static_cast<size_t>(UnwindEnd::kOutermost)] = 190;
    s.ends[static_cast<size_t>(UnwindEnd::kStackCopy)] = 10;
    const std::string d = describe_unwinding(s, 8192);
    EXPECT_NE(d.find("200 user stacks unwound (DWARF), 9.0 frames on average"), std::string::npos)
        << d;
    EXPECT_NE(d.find("95.0% reached the outermost frame"), std::string::npos) << d;
    EXPECT_NE(d.find("5.0% cut by the stack copy's size (8192 bytes; raise it with --call-graph "
                     "dwarf,16384)"),
              std::string::npos)
        << d;
    EXPECT_EQ(describe_unwinding(UnwindStats{}, 8192), "no user stacks were unwound (DWARF)");
}

}  // namespace
}  // namespace kprof
