#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "trace/format.hpp"
#include "trace/trace_test_util.hpp"

namespace kprof {
namespace {

using test::make_profile;
using test::run_kprof;
using test::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(InfoCommand, ShowsMetadataEventsLossesAndTables) {
    TempDir dir;
    const Profile p = make_profile({.samples = 300, .stacks = 30});
    write_trace(dir.file("t.kprof"), p);
    const auto r = run_kprof({"info", dir.file("t.kprof")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("kprof trace, finalized"));
    EXPECT_THAT(r.out, HasSubstr("testhost"));
    EXPECT_THAT(r.out, HasSubstr("6.18.0-test (x86_64)"));
    EXPECT_THAT(r.out, HasSubstr("kprof record --workload socket"));
    EXPECT_THAT(r.out, HasSubstr("killed by signal 9"));
    EXPECT_THAT(r.out, HasSubstr("interrupted"));
    // Sample counts are counted from the samples themselves.
    uint64_t cpu_clock = 0, xmit = 0;
    for (const Sample& s : p.samples) (s.event == 0 ? cpu_clock : xmit) += 1;
    EXPECT_THAT(r.out,
                ::testing::ContainsRegex("cpu-clock +999 Hz +" + std::to_string(cpu_clock) + " "));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("net:net_dev_xmit +period 1 +" +
                                                std::to_string(xmit) + " "));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("total +300\n"));
    // Per-CPU losses and the totals (3+0 records, 1+5 samples, 2 throttles).
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n  0 +3 +1 +2 +2\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n  3 +0 +5 +0 +0\n"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("\n  total +3 +6 +2 +2\n"));
    EXPECT_THAT(r.out, HasSubstr("unique stacks:          30 ("));
    EXPECT_THAT(r.out, HasSubstr("threads:                2 in 1 processes"));
    EXPECT_THAT(r.out, HasSubstr("dsos:                   2 (1 symbolized)"));
    EXPECT_THAT(r.out, HasSubstr("/usr/bin/target (2 symbols hit) build-id abcdef"));
    EXPECT_THAT(r.out, HasSubstr("unresolved user frames: 17"));
    EXPECT_THAT(r.out, HasSubstr("kernel symbols:         6 in"));
    EXPECT_THAT(r.out, Not(HasSubstr("kptr_restrict")));
}

TEST(InfoCommand, WarnsAboutRestrictedKernelSymbols) {
    TempDir dir;
    Profile p = make_profile();
    for (KernelSymbol& s : p.kernel_symbols) s.addr = 0;
    p.meta.kptr_restricted = true;
    write_trace(dir.file("r"), p);
    const auto r = run_kprof({"info", dir.file("r")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("kptr_restrict"));
}

TEST(InfoCommand, EscapesHostileNames) {
    TempDir dir;
    Profile p = make_profile();
    p.meta.hostname = "evil\x1b]0;owned\x07host";
    p.meta.command_line = "kprof record -- \x1b[2J";
    p.events[0].name =
        "ev\x9b"
        "1m";
    p.dsos[0].path = "/tmp/\x1b[31mred";
    write_trace(dir.file("h"), p);
    const auto r = run_kprof({"info", dir.file("h")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
    EXPECT_EQ(r.out.find('\x07'), std::string::npos);
    EXPECT_EQ(r.out.find('\x9b'), std::string::npos);
    EXPECT_THAT(r.out, HasSubstr("evil\\x1b]0;owned\\x07host"));
    EXPECT_THAT(r.out, HasSubstr("/tmp/\\x1b[31mred"));
}

TEST(InfoCommand, UnfinishedTraceNeedsRecover) {
    TempDir dir;
    const Profile p = make_profile({.samples = 1000, .stacks = 10});
    test::write_unfinished_trace(dir.file("k.data"), p);
    // Only k.data.tmp exists, as after a SIGKILL.
    auto r = run_kprof({"info", dir.file("k.data.tmp")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("--recover"));
    r = run_kprof({"info", "--recover", dir.file("k.data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("NOT finalized"));
    EXPECT_THAT(r.out, HasSubstr("1000 samples"));
    EXPECT_THAT(r.err, HasSubstr("warning"));
    EXPECT_THAT(r.out, ::testing::ContainsRegex("total +1000\n"));
}

TEST(InfoCommand, CorruptAndMissingFilesFailClearly) {
    TempDir dir;
    write_trace(dir.file("c"), make_profile());
    auto bytes = test::read_bytes(dir.file("c"));
    bytes[bytes.size() / 2] ^= 0x10;
    test::write_bytes(dir.file("c"), bytes);
    auto r = run_kprof({"info", dir.file("c")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("at offset"));
    r = run_kprof({"info", dir.file("missing")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("cannot open"));
    test::write_bytes(dir.file("junk"), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    r = run_kprof({"info", dir.file("junk")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("unknown file format"));
}

}  // namespace
}  // namespace kprof
