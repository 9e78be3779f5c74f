// System-wide recordings (-a) keep only live processes' stacks and mappings in memory and
// symbolize the addresses gathered on the way: processes that ran and exited well before
// the recording ended must still read with their function names, through the mappings
// their stacks hit (and only those).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "symbols/resolve.hpp"
#include "trace/format.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;

TEST(SymbolsLive, SystemWideResolvesProcessesThatExitedDuringTheRecording) {
    if (geteuid() != 0) GTEST_SKIP() << "system-wide recording needs root";
    test::TempDir dir;
    const std::string trace = dir.file("system.kprof");
    test::Process recorder({test::kprof_binary(), "record", "-a", "-e",
                            "syscalls:sys_enter_getppid", "-d", "6", "-o", trace},
                           {.merge_stderr = true});
    // The output file appears once every event is open; they are enabled after the kernel
    // symbol snapshot is written, which takes a while in a sanitizer build on a busy machine.
    for (int i = 0; i < 200 && !fs::exists(trace + ".tmp"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // Three short-lived processes, each ending more than a second before the recording.
    constexpr int kCalls = 300;
    std::set<uint32_t> targets;
    for (int i = 0; i < 3; ++i) {
        test::Process target({KPROF_SYMBOLS_TARGET, std::to_string(kCalls)});
        targets.insert(static_cast<uint32_t>(target.pid()));
        const test::ProcessResult r = target.wait();
        ASSERT_EQ(r.exit_code, 0) << r.describe();
    }
    const test::ProcessResult rec = recorder.wait();
    if (rec.exit_code != 0 && (rec.out.find("tracefs") != std::string::npos ||
                               rec.out.find("not supported") != std::string::npos))
        GTEST_SKIP() << rec.out;
    ASSERT_EQ(rec.exit_code, 0) << rec.describe();

    const Profile recorded = read_trace(trace);
    FrameResolver resolver(recorded);
    std::vector<Location> frames;
    std::map<uint32_t, uint64_t> chains;          // pid -> samples reading the whole chain
    std::map<uint32_t, std::set<uint64_t>> user;  // pid -> user ips of its stacks
    for (const Sample& sample : recorded.samples) {
        if (!targets.contains(sample.pid)) continue;
        const StackView s = recorded.stacks.get(sample.stack);
        std::vector<std::string> names;
        for (size_t i = s.kernel_depth; i < s.ips.size(); ++i) {
            frames.clear();
            resolver.resolve(s, i, frames);
            names.push_back(frames.back().function);
            user[sample.pid].insert(s.ips[i]);
        }
        const std::vector<std::string> want = {"leaf", "middle", "outer", "main"};
        chains[sample.pid] +=
            names.size() >= 4 && std::equal(want.begin(), want.end(), names.begin());
    }
    for (uint32_t pid : targets) {
        if (recorded.total_lost() == 0)
            EXPECT_EQ(chains[pid], uint64_t{kCalls}) << "pid " << pid;
        else
            EXPECT_GT(chains[pid], 0u) << "pid " << pid;
    }
    // Each mapping the trace keeps for them holds a frame of their stacks.
    for (const Mapping& m : recorded.mappings) {
        if (!targets.contains(m.pid)) continue;
        const std::set<uint64_t>& ips = user[m.pid];
        const auto in = ips.lower_bound(m.start);
        EXPECT_TRUE(in != ips.end() && *in - m.start < m.len)
            << recorded.dsos.at(m.dso).path << " of pid " << m.pid << " holds no frame";
    }
}

}  // namespace
}  // namespace kprof
