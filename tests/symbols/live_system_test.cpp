// System-wide recordings (-a) keep only live processes' stacks and mappings in memory and
// symbolize the addresses gathered on the way: processes that ran and exited well before
// the recording ended must still read with their function names, through the mappings
// their stacks hit (and only those).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "trace/format.hpp"
#include "trace/resolve.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;

// Starts argv with stdout and stderr into `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

int wait_exit_code(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_all(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        std::fclose(f);
    }
    return out;
}

TEST(SymbolsLive, SystemWideResolvesProcessesThatExitedDuringTheRecording) {
    if (geteuid() != 0) GTEST_SKIP() << "system-wide recording needs root";
    char tmpl[] = "/tmp/kprof-symbols-system-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string trace = dir + "/system.kprof";
    const std::string log = dir + "/record.log";

    const pid_t recorder = spawn(
        {KPROF_BINARY, "record", "-a", "-e", "syscalls:sys_enter_getppid", "-d", "4", "-o", trace},
        log);
    // The output file appears once every event is open; enabling follows at once.
    for (int i = 0; i < 100 && !fs::exists(trace + ".tmp"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Three short-lived processes, each ending more than a second before the recording.
    constexpr int kCalls = 300;
    std::set<uint32_t> targets;
    for (int i = 0; i < 3; ++i) {
        const pid_t p = spawn({KPROF_SYMBOLS_TARGET, std::to_string(kCalls)}, dir + "/target.log");
        ASSERT_EQ(wait_exit_code(p), 0) << read_all(dir + "/target.log");
        targets.insert(static_cast<uint32_t>(p));
    }
    const int rc = wait_exit_code(recorder);
    const std::string out = read_all(log);
    if (rc != 0 && (out.find("tracefs") != std::string::npos ||
                    out.find("not supported") != std::string::npos)) {
        fs::remove_all(dir);
        GTEST_SKIP() << out;
    }
    ASSERT_EQ(rc, 0) << out;

    const Profile recorded = read_trace(trace);
    fs::remove_all(dir);
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
