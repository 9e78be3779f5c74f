// The shared test helpers, on /bin/sh: what every other test folder relies on them for.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/test_support.hpp"

namespace kprof::test {
namespace {

TEST(TempDir, IsRemovedWithItsFiles) {
    std::string path;
    {
        TempDir dir("kprof-support");
        path = dir.path();
        EXPECT_TRUE(std::filesystem::is_directory(path));
        write_bytes(dir.file("a"), {'x', '\0', 'y'});
        EXPECT_EQ(read_file(dir.file("a")), std::string("x\0y", 3));
        EXPECT_EQ(read_bytes(dir.file("a")).size(), 3u);
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(RunShell, SeparatesOrMergesStdoutAndStderr) {
    const ProcessResult apart = run_shell("echo out; echo err >&2; exit 3");
    EXPECT_EQ(apart.exit_code, 3);
    EXPECT_FALSE(apart.signaled());
    EXPECT_EQ(apart.out, "out\n");
    EXPECT_EQ(apart.err, "err\n");
    const ProcessResult merged = run_shell("echo out; echo err >&2", {.merge_stderr = true});
    EXPECT_EQ(merged.exit_code, 0);
    EXPECT_EQ(merged.out, "out\nerr\n");
    EXPECT_EQ(merged.err, "");
}

TEST(RunShell, StdinIsEmptyAndQuotingKeepsWords) {
    EXPECT_EQ(run_shell("cat").out, "");
    EXPECT_EQ(run_shell("printf '%s|' " + shell_quote("it's") + " " + shell_quote("a b")).out,
              "it's|a b|");
}

TEST(RunProcess, ReportsTheKillingSignal) {
    const ProcessResult r = run_process({"/bin/sh", "-c", "kill -SEGV $$"});
    EXPECT_TRUE(r.signaled());
    EXPECT_EQ(r.signal, SIGSEGV);
    EXPECT_EQ(r.exit_code, 128 + SIGSEGV);
}

TEST(RunProcess, KillsWhatOutlivesItsTimeout) {
    const ProcessResult r = run_process({"/bin/sleep", "60"}, {.timeout = std::chrono::seconds(1)});
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL);
}

TEST(RunProcess, StdoutIntoAFile) {
    TempDir dir;
    const ProcessResult r = run_process({"/bin/sh", "-c", "echo to-file; echo e >&2"},
                                        {.merge_stderr = true, .stdout_path = dir.file("log")});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(read_file(dir.file("log")), "to-file\ne\n");
}

TEST(RunProcess, MissingProgramExits127) {
    EXPECT_EQ(run_process({"/nonexistent/program"}).exit_code, 127);
}

TEST(Process, DestructorKillsAProcessNotWaitedFor) {
    pid_t pid = 0;
    {
        Process p({"/bin/sleep", "60"});
        pid = p.pid();
        ASSERT_GT(pid, 0);
    }
    // Reaped: the pid no longer names a child of ours.
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(RunChild, ReturnsWhatTheChildSaid) {
    EXPECT_EQ(run_child([] { return std::string("hello"); }), "hello");
}

}  // namespace
}  // namespace kprof::test
