// Traces written by an earlier build must stay readable: the committed version-1 fixture
// is read and compared with the profile it was made from.
#include <gtest/gtest.h>

#include <cstdlib>

#include "import/imports.hpp"
#include "trace/format.hpp"
#include "trace_test_util.hpp"

namespace kprof {
namespace {

const std::string kFixture = std::string(KPROF_TEST_DATA_DIR) + "/trace/small-v1.kprof";

Profile fixture_profile() {
    return test::make_profile({.samples = 64, .stacks = 12, .seed = 5});
}

TEST(TraceFixture, Version1FileStillReads) {
    if (std::getenv("KPROF_UPDATE_GOLDEN")) {
        std::filesystem::create_directories(std::string(KPROF_TEST_DATA_DIR) + "/trace");
        write_trace(kFixture, fixture_profile());
    }
    ReadReport report;
    const Profile p = read_trace(kFixture, {}, &report);
    EXPECT_TRUE(report.finalized);
    EXPECT_TRUE(p == fixture_profile())
        << "the committed trace no longer reads back as the profile it was made from; if "
           "test::make_profile changed on purpose, regenerate with KPROF_UPDATE_GOLDEN=1";
}

TEST(TraceFixture, DetectedAsKprof) {
    EXPECT_EQ(detect_file_format(kFixture), FileFormat::kprof);
    const Profile p = load_profile(kFixture);
    EXPECT_EQ(p.samples.size(), 64u);
}

TEST(FormatDetection, ByContents) {
    auto detect = [](std::string_view s) {
        return detect_format(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    };
    EXPECT_EQ(detect(std::string_view("KPROFTRC\1\0\0\0", 12)), FileFormat::kprof);
    // perf.data: file header (size 104) and pipe header (size 16), either byte order.
    EXPECT_EQ(detect(std::string_view("PERFILE2\x68\0\0\0\0\0\0\0", 16)), FileFormat::perf_data);
    EXPECT_EQ(detect(std::string_view("PERFILE2\x10\0\0\0\0\0\0\0", 16)),
              FileFormat::perf_data_pipe);
    EXPECT_EQ(detect(std::string_view("2ELIFREP\0\0\0\0\0\0\0\x10", 16)),
              FileFormat::perf_data_pipe);
    EXPECT_EQ(detect(std::string_view("2ELIFREP\0\0\0\0\0\0\0\x68", 16)), FileFormat::perf_data);
    EXPECT_EQ(detect("swapper     0 [000]  2539.374711:     250000 cpu-clock: \n"
                     "\tffffffff81e6334e dev_hard_start_xmit+0x16e ([kernel.kallsyms])\n\n"),
              FileFormat::perf_script);
    EXPECT_EQ(detect("# ========\n# captured on: x\n#\nsh 31928  2519.863254:    1001001 "
                     "cpu-clock: \n\t    7f00 read+0xd (/usr/lib/libc.so.6)\n"),
              FileFormat::perf_script);
    EXPECT_EQ(detect("ping;main;__sys_sendto_[k];icmp_rcv_[k] 12\nping;main 3\n"),
              FileFormat::folded);
    EXPECT_EQ(detect("V8 Worker;a;b 1.5\n"), FileFormat::folded);
    EXPECT_EQ(detect("hello world\nthis is text\n"), FileFormat::unknown);
    EXPECT_EQ(detect(std::string_view("\0\1\2\3", 4)), FileFormat::unknown);
    EXPECT_EQ(detect(""), FileFormat::unknown);
}

}  // namespace
}  // namespace kprof
