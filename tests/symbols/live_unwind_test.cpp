// Live: `kprof record --call-graph dwarf` of programs without frame pointers. The test
// program (unwind_target.c, -O2 -fomit-frame-pointer, no -g) and Debian's python3 are
// recorded once for the suite; their user stacks must reach main (python3: Py_RunMain),
// where frame pointer stacks of the same program stop at the first frame, and must agree
// with `perf record --call-graph dwarf` of the same program, whose perf.data kprof unwinds
// on import with the same unwinder. Root only; skips where the kernel refuses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "import/imports.hpp"
#include "support/test_support.hpp"
#include "symbols/resolve.hpp"
#include "trace/format.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;

test::ProcessResult run(const std::string& command) {
    return test::run_shell(command, {.merge_stderr = true});
}

// The user functions of each sample's stack (leaf first), of the samples of `comm`.
std::vector<std::vector<std::string>> user_stacks(const Profile& p, const std::string& comm,
                                                  size_t* kernel_and_user = nullptr) {
    FrameResolver resolver(p, ResolveOptions{.inline_frames = false});
    std::vector<std::vector<std::string>> out;
    std::vector<Location> frames;
    for (const Sample& sample : p.samples) {
        const Thread* t = p.find_thread(sample.tid);
        if (t == nullptr || t->comm != comm) continue;
        const StackView s = p.stacks.get(sample.stack);
        std::vector<std::string> user;
        for (size_t i = s.kernel_depth; i < s.ips.size(); ++i) {
            frames.clear();
            resolver.resolve(s, i, frames);
            user.push_back(frames.back().function);
        }
        if (kernel_and_user != nullptr && s.kernel_depth > 0 && !user.empty()) ++*kernel_and_user;
        out.push_back(std::move(user));
    }
    return out;
}

// The share of stacks holding `chain` in order (innermost first), not necessarily adjacent.
double share_with(const std::vector<std::vector<std::string>>& stacks,
                  const std::vector<std::string>& chain) {
    if (stacks.empty()) return 0;
    size_t n = 0;
    for (const std::vector<std::string>& s : stacks) {
        auto at = s.begin();
        bool all = true;
        for (const std::string& f : chain) {
            at = std::find(at, s.end(), f);
            if (at == s.end()) {
                all = false;
                break;
            }
        }
        n += all;
    }
    return static_cast<double>(n) / static_cast<double>(stacks.size());
}

// The program's busy chain, from the frame that spins up to main.
const std::vector<std::string> kChain = {"unwind_leaf", "unwind_middle", "unwind_outer", "main"};
// The comm of the test program (15 characters of its file name).
const std::string kTargetComm = "kprof_unwind_ta";
constexpr const char* kPython = "/usr/bin/python3";
// Half a second of CPU in Python code: _PyEval_EvalFrameDefault and its helpers.
constexpr const char* kPythonBusy =
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5:\n"
    "    sum(i * i for i in range(10000))\n";

class DwarfRecordings : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        tmp_ = std::make_unique<test::TempDir>("kprof-dwarf-live");
        if (::geteuid() != 0) {
            skip_ = "recording needs root";
            return;
        }
        const std::string k = std::string(KPROF_BINARY) + " record -F 999 ";
        const std::string target = std::string("'") + KPROF_UNWIND_TARGET + "'";
        std::string why;
        if (!record(k + "--call-graph dwarf -o " + file("dwarf.kprof") + " -- " + target + " 0.5",
                    &dwarf_log_) ||
            !record(k + "--call-graph fp -o " + file("fp.kprof") + " -- " + target + " 0.3",
                    &why)) {
            skip_ = "kprof record refused: " + dwarf_log_ + why;
            return;
        }
        if (fs::exists(kPython)) {
            std::ofstream(file("busy.py")) << kPythonBusy;
            python_ok_ = record(k + "--call-graph dwarf -o " + file("python.kprof") + " -- " +
                                    kPython + " " + file("busy.py"),
                                &python_log_);
        }
        perf_ok_ = run("perf record -q -F 999 --call-graph dwarf -o " + file("perf.data") + " -- " +
                       target + " 0.5 >/dev/null 2>&1")
                       .exit_code == 0;
    }
    static void TearDownTestSuite() { tmp_.reset(); }
    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
    }

    static std::string file(const std::string& name) { return tmp_->path() + "/" + name; }
    // Runs a recording; its output (the summary, or why it failed) goes to *log.
    static bool record(const std::string& command, std::string* log) {
        const test::ProcessResult r = run(command);
        *log = r.out;
        return r.exit_code == 0;
    }

    inline static std::unique_ptr<test::TempDir> tmp_;
    inline static std::string skip_, dwarf_log_, python_log_;
    inline static bool python_ok_ = false, perf_ok_ = false;
};

TEST_F(DwarfRecordings, StacksOfAProgramWithoutFramePointersReachMain) {
    const Profile p = read_trace(file("dwarf.kprof"));
    const auto stacks = user_stacks(p, kTargetComm);
    ASSERT_GT(stacks.size(), 100u);
    // The rest: samples in clock_gettime, whose stacks reach main through libc.
    EXPECT_GT(share_with(stacks, kChain), 0.8);
    EXPECT_GT(share_with(stacks, {"main", "__libc_start_call_main"}), 0.95);
}

TEST_F(DwarfRecordings, FramePointerStacksOfTheSameProgramStopEarly) {
    // What --call-graph dwarf is for: the kernel's frame pointer walk loses the callers.
    const Profile p = read_trace(file("fp.kprof"));
    const auto stacks = user_stacks(p, kTargetComm);
    ASSERT_GT(stacks.size(), 50u);
    EXPECT_LT(share_with(stacks, kChain), 0.2);
}

TEST_F(DwarfRecordings, KernelFramesSitAboveTheUnwoundUserFrames) {
    // The loop's clock_gettime(CLOCK_PROCESS_CPUTIME_ID) is a real system call: samples in
    // the kernel carry the kernel's own frames, then user frames unwound from the
    // registers saved at entry.
    const Profile p = read_trace(file("dwarf.kprof"));
    size_t both = 0;
    const auto stacks = user_stacks(p, kTargetComm, &both);
    EXPECT_GT(both, 0u) << "no sample with kernel and user frames";
    FrameResolver resolver(p);
    for (const Sample& sample : p.samples) {
        const StackView s = p.stacks.get(sample.stack);
        for (size_t i = 0; i < s.ips.size(); ++i)
            EXPECT_EQ(s.ips[i] >= kKernelAddressStart, i < s.kernel_depth) << "frame " << i;
    }
}

TEST_F(DwarfRecordings, TheSummarySaysHowTheUnwindsEndedAndTheTraceStaysSmall) {
    EXPECT_NE(dwarf_log_.find("user stacks unwound (DWARF)"), std::string::npos) << dwarf_log_;
    EXPECT_NE(dwarf_log_.find("reached the outermost frame"), std::string::npos) << dwarf_log_;
    // Frames, not the 8 KB stack copies, are stored: the dwarf trace is about as small as
    // the frame pointer one (both mostly the kernel symbol snapshot).
    const Profile p = read_trace(file("dwarf.kprof"));
    const auto dwarf_bytes = fs::file_size(file("dwarf.kprof"));
    const auto fp_bytes = fs::file_size(file("fp.kprof"));
    EXPECT_LT(dwarf_bytes, fp_bytes + p.samples.size() * 64)
        << dwarf_bytes << " bytes for " << p.samples.size() << " samples";
}

TEST_F(DwarfRecordings, Python3StacksReachPyRunMain) {
    if (!fs::exists(kPython)) GTEST_SKIP() << kPython << " is not installed (scripts/deps.sh)";
    ASSERT_TRUE(python_ok_) << python_log_;
    const Profile p = read_trace(file("python.kprof"));
    const auto stacks = user_stacks(p, "python3");
    ASSERT_GT(stacks.size(), 100u) << python_log_;
    // Samples of the interpreter's start-up and exit do not run under Py_RunMain.
    EXPECT_GT(share_with(stacks, {"_PyEval_EvalFrameDefault", "Py_RunMain", "Py_BytesMain"}), 0.8);
    EXPECT_GT(share_with(stacks, {"__libc_start_call_main"}), 0.95);
    EXPECT_NE(python_log_.find("reached the outermost frame"), std::string::npos) << python_log_;
}

// perf script's stacks of perf.data: one line per frame, a blank line after each sample.
std::vector<std::vector<std::string>> perf_script_stacks(const std::string& data) {
    const test::ProcessResult r =
        run("perf script -i " + data + " -F comm,ip,sym --comms " + kTargetComm + " 2>/dev/null");
    std::vector<std::vector<std::string>> out;
    std::istringstream in(r.out);
    std::string line;
    std::vector<std::string> stack;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (!stack.empty()) out.push_back(std::move(stack));
            stack.clear();
            continue;
        }
        if (line[0] != '\t' && line[0] != ' ') continue;  // the sample's header line
        std::istringstream frame(line);
        std::string ip, sym;
        frame >> ip >> sym;
        stack.push_back(sym.substr(0, sym.find('+')));
    }
    if (!stack.empty()) out.push_back(std::move(stack));
    return out;
}

TEST_F(DwarfRecordings, AgreesWithPerfsDwarfModeOnTheSameProgram) {
    if (!perf_ok_) GTEST_SKIP() << "perf record --call-graph dwarf failed (is linux-perf here?)";
    const auto perf = perf_script_stacks(file("perf.data"));
    ASSERT_GT(perf.size(), 100u);
    const auto ours = user_stacks(read_trace(file("dwarf.kprof")), kTargetComm);
    const double perf_share = share_with(perf, kChain);
    EXPECT_GT(perf_share, 0.8);
    EXPECT_NEAR(share_with(ours, kChain), perf_share, 0.1);
}

TEST_F(DwarfRecordings, PerfDataRecordedInDwarfModeIsUnwoundOnImport) {
    if (!perf_ok_) GTEST_SKIP() << "perf record --call-graph dwarf failed (is linux-perf here?)";
    const Profile p = import_perf_data(file("perf.data"), ImportOptions{.debug_info = false});
    const auto stacks = user_stacks(p, kTargetComm);
    ASSERT_GT(stacks.size(), 100u);
    EXPECT_NEAR(share_with(stacks, kChain),
                share_with(perf_script_stacks(file("perf.data")), kChain), 0.02);
}

TEST(DwarfRecordOptions, LbrIsRefusedNamingTheSupportedModes) {
    const test::ProcessResult r =
        run(std::string(KPROF_BINARY) + " record --call-graph lbr -o /dev/null -- true");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("--call-graph lbr is not supported"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fp (frame pointers, the default) and dwarf[,SIZE]"), std::string::npos)
        << r.out;
}

TEST(DwarfRecordOptions, ARingTooSmallForTheStackCopiesIsRefusedBeforeStarting) {
    if (::geteuid() != 0) GTEST_SKIP() << "recording needs root";
    test::TempDir dir;
    const test::ProcessResult r =
        run(std::string(KPROF_BINARY) + " record --call-graph dwarf,16384 -m 8 -o " + dir.path() +
            "/x.kprof -- true");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("-m 8: a ring of 32 KiB holds too few samples of --call-graph "
                         "dwarf,16384"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("use -m 64 or more"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir.path() + "/x.kprof"));
}

}  // namespace
}  // namespace kprof
