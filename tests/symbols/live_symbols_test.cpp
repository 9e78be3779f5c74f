// Live: `kprof record` of the fixture program (tests/symbols/symbols_target.c). On the
// getppid tracepoint every hit's user frames read leaf, middle, outer, main; on
// timer:hrtimer_start (leaf's nanosleep) they do so above the kernel frames, and still do
// once the recorded binary is gone (the trace carries its symbols). Root only; skips while
// `kprof record` is missing or where the kernel refuses.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "symbols/resolve.hpp"
#include "trace/format.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

// Runs a shell command line, its stdout and stderr together in `out`.
test::ProcessResult run(const std::string& command) {
    return test::run_shell(command, {.merge_stderr = true});
}

// The user frames of every sample's stack, innermost first, as the trace resolves them.
struct ResolvedStack {
    size_t kernel_frames = 0;
    std::vector<std::string> user;          // containing functions
    std::vector<std::string> user_inlined;  // inlined frames' functions
    std::vector<std::string> user_modules;
};

std::vector<ResolvedStack> resolve_user_stacks(const Profile& profile,
                                               const ResolveOptions& options = {}) {
    FrameResolver resolver(profile, options);
    std::vector<ResolvedStack> out;
    std::vector<Location> frames;
    for (StackId id = 0; id < profile.stacks.size(); ++id) {
        const StackView s = profile.stacks.get(id);
        if (s.user_ips().empty()) continue;
        ResolvedStack r;
        r.kernel_frames = s.kernel_depth;
        for (size_t i = s.kernel_depth; i < s.ips.size(); ++i) {
            frames.clear();
            resolver.resolve(s, i, frames);
            for (const Location& l : frames) {
                if (l.inlined) {
                    r.user_inlined.push_back(l.function);
                } else {
                    r.user.push_back(l.function);
                    r.user_modules.push_back(l.module);
                }
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

bool reads_leaf_middle_outer_main(const ResolvedStack& s) {
    const std::vector<std::string> want = {"leaf", "middle", "outer", "main"};
    return s.kernel_frames > 0 && s.user.size() >= want.size() &&
           std::equal(want.begin(), want.end(), s.user.begin());
}

// Runs `kprof record ARGS`; skips the test (returns false) where recording cannot happen.
bool record(const std::string& args, std::string* why) {
    const test::ProcessResult rec = run(std::string(KPROF_BINARY) + " record " + args);
    if (rec.exit_code == 0) return true;
    *why = rec.out;
    return false;
}

bool refused(const std::string& output) {
    return output.find("not implemented") != std::string::npos ||
           output.find("not supported") != std::string::npos ||
           output.find("tracefs") != std::string::npos;
}

TEST(SymbolsLive, EveryTracepointHitReadsLeafMiddleOuterMain) {
    if (geteuid() != 0) GTEST_SKIP() << "recording needs root";
    TempDir dir;
    const std::string trace = dir.path() + "/getppid.kprof";
    std::string why;
    if (!record("-e syscalls:sys_enter_getppid -o '" + trace + "' -- '" + KPROF_SYMBOLS_TARGET +
                    "' 500",
                &why)) {
        if (refused(why)) GTEST_SKIP() << why;
        FAIL() << why;
    }
    const Profile recorded = read_trace(trace);
    // The syscall tracepoints fire with the user registers: user frames only, leaf first.
    FrameResolver resolver(recorded);
    std::vector<Location> frames;
    uint64_t chains = 0;
    for (const Sample& sample : recorded.samples) {
        const StackView s = recorded.stacks.get(sample.stack);
        std::vector<std::string> user;
        for (size_t i = s.kernel_depth; i < s.ips.size(); ++i) {
            frames.clear();
            resolver.resolve(s, i, frames);
            user.push_back(frames.back().function);
        }
        const std::vector<std::string> want = {"leaf", "middle", "outer", "main"};
        chains += user.size() >= 4 && std::equal(want.begin(), want.end(), user.begin());
    }
    EXPECT_EQ(recorded.unresolved_frames, 0u);
    if (recorded.total_lost() == 0)
        EXPECT_EQ(chains, 500u);
    else
        EXPECT_LE(chains, 500u);
}

TEST(SymbolsLive, UserFramesAboveKernelFramesSurviveTheBinarysDeletion) {
    if (geteuid() != 0) GTEST_SKIP() << "recording needs root";
    TempDir dir;
    const std::string program = dir.path() + "/symbols_target";
    fs::copy_file(KPROF_SYMBOLS_TARGET, program);
    const std::string trace = dir.path() + "/target.kprof";
    // leaf's nanosleep arms an hrtimer deep in the kernel: kernel frames, then user ones.
    std::string why;
    if (!record("-e timer:hrtimer_start -o '" + trace + "' -- '" + program + "' 500", &why)) {
        if (refused(why)) GTEST_SKIP() << why;
        FAIL() << why;
    }

    const Profile recorded = read_trace(trace);
    const auto stacks = resolve_user_stacks(recorded);
    ASSERT_FALSE(stacks.empty()) << "no stack with user frames";
    size_t matching = 0;
    for (const ResolvedStack& s : stacks) {
        if (!reads_leaf_middle_outer_main(s)) continue;
        ++matching;
        EXPECT_EQ(s.user_modules[0], program);
    }
    EXPECT_GT(matching, 0u) << "no stack reads kernel frames, then leaf, middle, outer, main; "
                            << "first user frames: " << ::testing::PrintToString(stacks[0].user);

    // Analysis elsewhere: the trace copied away, the recorded binary deleted.
    TempDir elsewhere;
    const std::string copy = elsewhere.path() + "/copy.kprof";
    fs::copy_file(trace, copy);
    fs::remove(program);
    const Profile moved = read_trace(copy);
    const auto again = resolve_user_stacks(moved);
    size_t matching_again = 0;
    for (const ResolvedStack& s : again) matching_again += reads_leaf_middle_outer_main(s);
    EXPECT_EQ(matching_again, matching);
}

}  // namespace
}  // namespace kprof
