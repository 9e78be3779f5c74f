#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "support/test_support.hpp"
#include "trace/format.hpp"
#include "trace/trace_test_util.hpp"

namespace kprof {
namespace {

using test::run_kprof;
using test::TempDir;
using ::testing::HasSubstr;

// Two known stacks over the symbols of make_profile():
//  0: tcp_sendmsg+0x10, __sys_socket+0x20 | main+0x10 (with an inlined helper), an address
//     in /usr/bin/target outside any symbol
//  1: a kernel address past _etext, e1000_xmit_frame+0x4 (kernel only)
Profile script_profile() {
    Profile p = test::make_profile({.samples = 0, .stacks = 0});
    p.events.resize(1);
    p.events[0].samples = 5;
    const std::vector<uint64_t> s0{0xffffffff81001010ULL, 0xffffffff81002020ULL, 0x555555554110ULL,
                                   0x555555554180ULL};
    const std::vector<uint64_t> s1{0xffffffff81003010ULL, 0xffffffffc0001004ULL};
    p.stacks.intern(s0, 2, 42, 1);
    p.stacks.intern(s1, 2, 0, 0);
    // Out of time order on purpose: script prints in time order, as perf does.
    auto add = [&p](uint64_t t, uint32_t tid, StackId stack, uint16_t cpu) {
        p.samples.push_back(Sample{.time_ns = t,
                                   .period = 1000,
                                   .pid = 42,
                                   .tid = tid,
                                   .stack = stack,
                                   .cpu = cpu,
                                   .event = 0});
    };
    add(123'456'789'000ULL, 42, 0, 1);
    add(123'456'790'000ULL, 43, 1, 2);
    add(100'000'001'999ULL, 42, 0, 0);
    add(200'000'000'000ULL, 42, 0, 3);
    add(150'000'000'000ULL, 43, 1, 2);
    return p;
}

// The parsing half of FlameGraph's stackcollapse-perf.pl (default options), in C++: the
// regexes are the script's own, so output that passes here passes there.
std::map<std::string, uint64_t> collapse(const std::string& text) {
    static const std::regex header(R"(^(\S.+?)\s+(\d+)\/*(\d+)*\s+)");
    static const std::regex event(R"(:\s*(\d+)*\s+(\S+):\s*$)");
    static const std::regex frame(R"(^\s*(\w+)\s*(.+) \((\S*)\))");
    static const std::regex offset(R"(\+0x[\da-f]+$)");
    std::map<std::string, uint64_t> folded;
    std::string comm;
    std::vector<std::string> frames;
    bool in_sample = false;
    std::istringstream in(text);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (in_sample) {
                std::string key = comm;
                for (auto it = frames.rbegin(); it != frames.rend(); ++it) key += ";" + *it;
                ++folded[key];
            }
            in_sample = false;
            frames.clear();
            continue;
        }
        if (std::regex_search(line, m, header)) {
            comm = m[1];
            for (char& c : comm)
                if (c == ' ') c = '_';
            EXPECT_TRUE(std::regex_search(line, event)) << "no event in: " << line;
            in_sample = true;
        } else if (std::regex_search(line, m, frame)) {
            std::string func = std::regex_replace(m[2].str(), offset, "");
            const std::string mod = m[3];
            // Current FlameGraph: "[unknown]" in a known module becomes "[module]".
            if (func == "[unknown]" && mod != "[unknown]")
                func = "[" + mod.substr(mod.rfind('/') + 1) + "]";
            for (char& c : func)
                if (c == ';') c = ':';
            frames.push_back(func);
        } else {
            ADD_FAILURE() << "stackcollapse-perf.pl would not parse: " << line;
        }
    }
    EXPECT_FALSE(in_sample) << "last sample not terminated by a blank line";
    return folded;
}

TEST(ScriptCommand, PerfScriptLayoutExactly) {
    TempDir dir;
    write_trace(dir.file("s"), script_profile());
    const auto r = run_kprof({"script", dir.file("s")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The first sample in time order (100.000001 s), spelled out by hand from perf 6.1's
    // formats: "%s %5d/%-5d [%03d] %5lu.%06lu: %10lu %s: " and "\t%16lx sym+0x%lx (dso)".
    const std::string first =
        "target    42/42    [000]   100.000001:       1000 cpu-clock: \n"
        "\tffffffff81001010 tcp_sendmsg+0x10 ([kernel.kallsyms])\n"
        "\tffffffff81002020 __sys_socket+0x20 ([kernel.kallsyms])\n"
        "\t            1110 inlined_helper (/usr/bin/target)\n"
        "\t            1110 main+0x10 (/usr/bin/target)\n"
        "\t            1180 [unknown] (/usr/bin/target)\n"
        "\n";
    EXPECT_EQ(r.out.substr(0, first.size()), first);
    // Past _etext, where perf has no map: "[unknown] ([unknown])".
    const std::string kernel_only =
        "target-w\\x1b[31m    42/43    [002]   150.000000:       1000 cpu-clock: \n"
        "\tffffffff81003010 [unknown] ([unknown])\n"
        "\tffffffffc0001004 e1000_xmit_frame+0x4 ([e1000])\n"
        "\n";
    EXPECT_THAT(r.out, HasSubstr(kernel_only));
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
    // Time order.
    const size_t a = r.out.find("100.000001"), b = r.out.find("123.456789"),
                 c = r.out.find("123.456790"), d = r.out.find("150.000000"),
                 e = r.out.find("200.000000");
    ASSERT_NE(e, std::string::npos);
    EXPECT_TRUE(a < b && b < c && c < d && d < e);
}

// A sample the kernel took outside any task has pid and tid -1, which perf prints
// signed, with ":-1" as the comm it never saw.
TEST(ScriptCommand, TasklessSampleIsMinusOneAsInPerf) {
    TempDir dir;
    Profile p = script_profile();
    Sample s = p.samples.front();
    s.pid = s.tid = UINT32_MAX;
    s.time_ns = 300'000'000'000ULL;
    s.cpu = 0;
    p.samples.push_back(s);
    write_trace(dir.file("s"), p);
    const auto r = run_kprof({"script", dir.file("s")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr(":-1    -1/-1    [000]   300.000000:"));
    EXPECT_EQ(r.out.find("4294967295"), std::string::npos);
}

TEST(ScriptCommand, StackcollapsePerfReadsItUnchanged) {
    TempDir dir;
    write_trace(dir.file("s"), script_profile());
    const auto r = run_kprof({"script", dir.file("s")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto folded = collapse(r.out);
    const std::map<std::string, uint64_t> expected{
        {"target;[target];main;inlined_helper;__sys_socket;tcp_sendmsg", 3},
        {"target-w\\x1b[31m;e1000_xmit_frame;[unknown]", 2},
    };
    EXPECT_EQ(folded, expected);
}

TEST(ScriptCommand, NoInlineAndKallsymsOverride) {
    TempDir dir;
    write_trace(dir.file("s"), script_profile());
    const std::string ks = "ffffffff81001000 T renamed_fn\nffffffff81004000 T _etext\n";
    test::write_bytes(dir.file("ks"), std::vector<uint8_t>(ks.begin(), ks.end()));
    const auto r =
        run_kprof({"script", "--no-inline", "--kallsyms", dir.file("ks"), dir.file("s")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("inlined_helper")));
    EXPECT_THAT(r.out, HasSubstr("\tffffffff81001010 renamed_fn+0x10 ([kernel.kallsyms])\n"));
    EXPECT_THAT(r.out, HasSubstr("\tffffffff81003010 renamed_fn+0x2010 ([kernel.kallsyms])\n"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("tcp_sendmsg")));
    const auto folded = collapse(r.out);
    EXPECT_EQ(folded.at("target;[target];main;renamed_fn;renamed_fn"), 3u);
}

TEST(ScriptCommand, EverySampleOfABigTraceIsPrinted) {
    TempDir dir;
    const Profile p = test::make_profile({.samples = 20'000, .stacks = 500});
    write_trace(dir.file("big"), p);
    const auto r = run_kprof({"script", dir.file("big")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t blocks = 0, frames = 0;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            ++blocks;
        else if (line[0] == '\t')
            ++frames;
    }
    EXPECT_EQ(blocks, p.samples.size());
    size_t expected_frames = 0;
    for (const Sample& s : p.samples) expected_frames += p.stacks.get(s.stack).ips.size();
    // Inlined frames add lines: at least one per ip.
    EXPECT_GE(frames, expected_frames);
    uint64_t total = 0;
    for (const auto& [stack, n] : collapse(r.out)) total += n;
    EXPECT_EQ(total, p.samples.size());
}

TEST(ScriptCommand, RecoverAndErrors) {
    TempDir dir;
    const Profile p = script_profile();
    test::write_unfinished_trace(dir.file("k"), p);
    auto r = run_kprof({"script", dir.file("k")});
    EXPECT_EQ(r.exit_code, 1);
    r = run_kprof({"script", "--recover", dir.file("k")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("warning"));
    EXPECT_EQ(collapse(r.out).size(), 2u);
    r = run_kprof({"script", "--kallsyms", dir.file("nope"), dir.file("k.tmp"), "--recover"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("nope"));
}

// Against the real thing: a perf.data recorded by perf, printed by perf script with the
// same fields, and by kprof script through kprof's own perf.data reader. Headers must agree
// from the pid on (perf names a thread by its comm at each sample, kprof by its last comm)
// and kernel frame lines must be identical.
TEST(ScriptCommand, MatchesPerfScriptOnAPerfRecording) {
    TempDir dir;
    const std::string data = dir.file("perf.data");
    if (std::system(("perf record -q -a -g -e cpu-clock -F 999 -o " + data +
                     " -- sleep 0.3 >/dev/null 2>&1")
                        .c_str()) != 0)
        GTEST_SKIP() << "perf record -a did not run here (perf missing or not permitted)";
    const std::string perf_txt = dir.file("perf.txt");
    if (std::system(("perf script -i " + data +
                     " -F comm,pid,tid,cpu,time,period,event,ip,sym,symoff,dso >" + perf_txt +
                     " 2>/dev/null")
                        .c_str()) != 0)
        GTEST_SKIP() << "perf script failed";
    const auto bytes = test::read_bytes(perf_txt);
    const std::string perf_out(bytes.begin(), bytes.end());
    const auto r = run_kprof({"script", data});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto split = [](const std::string& text, bool headers) {
        std::vector<std::string> out;
        static const std::regex pid_on(R"( +\d+/\d+ .*$)");
        std::istringstream in(text);
        std::string line;
        std::smatch m;
        while (std::getline(in, line)) {
            if (headers && !line.empty() && line[0] != '\t' && std::regex_search(line, m, pid_on))
                out.push_back(m[0]);
            if (!headers && line.find("([kernel.kallsyms])") != std::string::npos)
                out.push_back(line);
        }
        return out;
    };
    const auto perf_headers = split(perf_out, true), kprof_headers = split(r.out, true);
    ASSERT_FALSE(perf_headers.empty());
    EXPECT_EQ(kprof_headers, perf_headers);
    EXPECT_EQ(split(r.out, false), split(perf_out, false));
}

}  // namespace
}  // namespace kprof
