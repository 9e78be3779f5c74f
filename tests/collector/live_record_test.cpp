// Live tests: the real kprof binary records the real kernel (root). Each asserts what the
// trace holds (kernel paths of the built-in workloads), or how a recording ends
// (signals, failing commands, a full disk, an unprivileged user, two at once).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "symbols/resolve.hpp"
#include "trace/error.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace kprof {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::Process;
using test::ProcessResult;
using test::read_file;
using test::TempDir;

// Runs ARGV to the end, its stdout and stderr together in `out`.
ProcessResult run(const std::vector<std::string>& argv) {
    return test::run_process(argv, {.merge_stderr = true});
}

// Starts ARGV in the background, its stdout and stderr going to LOG.
Process spawn(const std::vector<std::string>& argv, const std::string& log) {
    return Process(argv, {.merge_stderr = true, .stdout_path = log});
}

// Waits for a spawned process to end; its log becomes `out`.
ProcessResult finish(Process& process, const std::string& log) {
    ProcessResult r = process.wait();
    r.out = read_file(log);
    return r;
}

std::vector<std::string> kprof_record(const std::string& out, std::vector<std::string> args) {
    std::vector<std::string> argv = {KPROF_BINARY, "record", "-o", out};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// Names of the kernel functions in the stacks of `event`'s samples.
std::set<std::string> kernel_functions(const Profile& p, const std::string& event) {
    int index = -1;
    for (size_t i = 0; i < p.events.size(); ++i)
        if (p.events[i].name == event) index = static_cast<int>(i);
    std::set<std::string> names;
    if (index < 0) return names;
    FrameResolver resolver(p);
    std::set<StackId> seen;
    for (const Sample& s : p.samples) {
        if (s.event != index || !seen.insert(s.stack).second) continue;
        for (uint64_t ip : p.stacks.get(s.stack).kernel_ips())
            names.insert(resolver.resolve_kernel(ip).function);
    }
    return names;
}

uint64_t samples_of(const Profile& p, const std::string& event) {
    for (const EventDesc& e : p.events)
        if (e.name == event) return e.samples;
    return 0;
}

// `kprof workload write` running in the background until the test ends (it only has
// to outlive the recording, however slowly a loaded machine starts it).
struct BusyWorkload {
    explicit BusyWorkload(const TempDir& dir)
        : process(spawn({KPROF_BINARY, "workload", "write", "-d", "120"}, dir.file("busy.log"))),
          pid(process.pid()) {}
    Process process;  // killed when the test ends
    pid_t pid;
};

bool skip_without_root() {
    return ::geteuid() != 0;
}

#define REQUIRE_ROOT() \
    if (skip_without_root()) GTEST_SKIP() << "live recording needs root (perf_event, tracefs)"

TEST(LiveRecord, SocketWorkloadReachesSysSocketAndInetCreate) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("socket.data");
    // sk_alloc -> kmem_cache_alloc inside inet_create: a tracepoint every socket() hits,
    // where 999 Hz timer sampling might miss the short syscall.
    ProcessResult r = run(kprof_record(out, {"--workload", "socket", "-d", "1", "-e", "cpu-clock",
                                             "-e", "kmem:kmem_cache_alloc"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("socket (pid"));
    EXPECT_THAT(r.out, HasSubstr("exited with status 0"));
    Profile p = read_trace(out);
    EXPECT_EQ(p.meta.target, "workload socket");
    EXPECT_EQ(p.meta.exit_status, 0);
    EXPECT_GT(p.meta.nr_cpus, 0u);
    EXPECT_FALSE(p.kernel_symbols.empty());
    const auto names = kernel_functions(p, "kmem:kmem_cache_alloc");
    EXPECT_TRUE(names.count("__sys_socket")) << "no __sys_socket in " << names.size() << " names";
    EXPECT_TRUE(names.count("inet_create"));
    // The workload ran as its own process, named after the workload.
    bool workload_thread = false;
    for (const Thread& t : p.threads) workload_thread |= t.comm == "kprof-socket";
    EXPECT_TRUE(workload_thread);
}

TEST(LiveRecord, WriteWorkloadReachesTcpSendmsg) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("write.data");
    ProcessResult r =
        run(kprof_record(out, {"--workload", "write", "-d", "1", "-e", "net:net_dev_xmit"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    EXPECT_GT(samples_of(p, "net:net_dev_xmit"), 0u);
    EXPECT_TRUE(kernel_functions(p, "net:net_dev_xmit").count("tcp_sendmsg"));
    // Stacks reach user space too: some sample has user frames after the kernel ones.
    bool user_frames = false;
    for (const Sample& s : p.samples) user_frames |= !p.stacks.get(s.stack).user_ips().empty();
    EXPECT_TRUE(user_frames);
}

TEST(LiveRecord, PingWorkloadReachesIcmpRcvAndIcmpEcho) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("ping.data");
    ProcessResult r =
        run(kprof_record(out, {"--workload", "ping", "-d", "1", "-e", "net:net_dev_xmit"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    const auto names = kernel_functions(p, "net:net_dev_xmit");
    EXPECT_TRUE(names.count("icmp_rcv"));
    EXPECT_TRUE(names.count("icmp_echo"));
}

TEST(LiveRecord, ThreeWorkloadsTwoEventsInOneRecording) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("all.data");
    ProcessResult r = run(kprof_record(out, {"--workload", "socket,write,ping", "-d", "1", "-e",
                                             "cpu-clock", "-e", "net:net_dev_xmit"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    for (const char* w : {"socket (pid", "write (pid", "ping (pid"})
        EXPECT_THAT(r.out, HasSubstr(w));
    Profile p = read_trace(out);
    ASSERT_EQ(p.events.size(), 2u);
    EXPECT_TRUE(p.events[0].use_freq);
    EXPECT_EQ(p.events[0].freq_or_period, 999u);
    EXPECT_FALSE(p.events[1].use_freq);
    EXPECT_EQ(p.events[1].freq_or_period, 1u);
    EXPECT_GT(samples_of(p, "cpu-clock"), 0u);
    EXPECT_GT(samples_of(p, "net:net_dev_xmit"), 0u);
    uint64_t per_event[2] = {0, 0};
    for (const Sample& s : p.samples) ++per_event[s.event];
    EXPECT_EQ(per_event[0], p.events[0].samples);
    EXPECT_EQ(per_event[1], p.events[1].samples);
    EXPECT_EQ(p.losses.size(), p.meta.nr_cpus);
    EXPECT_FALSE(p.mappings.empty());
}

TEST(LiveRecord, FlatSamplingHasOneFramePerSample) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("flat.data");
    ProcessResult r = run(kprof_record(
        out, {"--no-callgraph", "--workload", "write", "-d", "1", "-e", "net:net_dev_xmit"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    ASSERT_FALSE(p.samples.empty());
    for (const Sample& s : p.samples) ASSERT_EQ(p.stacks.get(s.stack).ips.size(), 1u);
}

TEST(LiveRecord, CommandExitStatusIsReportedAndTraceKept) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("exit3.data");
    ProcessResult r = run(kprof_record(out, {"--", "/bin/sh", "-c",
                                             "i=0; while [ $i -lt 20000 ]; do "
                                             "i=$((i+1)); done; exit 3"}));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("exited with status 3"));
    Profile p = read_trace(out);
    EXPECT_EQ(p.meta.exit_status, 3);
    EXPECT_THAT(p.meta.target, HasSubstr("command /bin/sh"));
}

TEST(LiveRecord, CrashingCommandIsReportedWithItsSignal) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("crash.data");
    ProcessResult r = run(kprof_record(out, {"--", "/bin/sh", "-c", "kill -SEGV $$"}));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("killed by signal 11 (SIGSEGV)"));
    EXPECT_EQ(read_trace(out).meta.exit_status, -11);
}

TEST(LiveRecord, MissingCommandFailsWithoutLeavingFiles) {
    REQUIRE_ROOT();
    TempDir dir;
    ProcessResult r = run(kprof_record(dir.file("none.data"), {"--", "/nonexistent/cmd"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("cannot run '/nonexistent/cmd'"));
    EXPECT_FALSE(fs::exists(dir.file("none.data")));
    EXPECT_FALSE(fs::exists(dir.file("none.data.tmp")));
}

TEST(LiveRecord, UnknownTracepointSuggestsCloseMatch) {
    REQUIRE_ROOT();
    TempDir dir;
    ProcessResult r =
        run(kprof_record(dir.file("x.data"), {"-e", "net:net_dev_xmitt", "--", "/bin/true"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("did you mean: net:net_dev_xmit"));
    EXPECT_FALSE(fs::exists(dir.file("x.data.tmp")));
}

TEST(LiveRecord, HardwareEventWithoutPmuSaysUseCpuClock) {
    REQUIRE_ROOT();
    TempDir dir;
    ProcessResult r = run(kprof_record(dir.file("hw.data"), {"-e", "cycles", "--", "/bin/true"}));
    if (r.exit_code == 0) GTEST_SKIP() << "this machine has a PMU: cycles works here";
    EXPECT_THAT(r.out, HasSubstr("hardware event 'cycles' is not supported on this machine "
                                 "(no PMU, e.g. in a VM); use -e cpu-clock"));
    EXPECT_FALSE(fs::exists(dir.file("hw.data.tmp")));
}

void interrupt_test(int sig) {
    TempDir dir;
    const std::string out = dir.file("sig.data");
    const std::string log = dir.file("sig.log");
    Process rec = spawn(kprof_record(out, {"--workload", "write", "-d", "60"}), log);
    // Wait until recording runs (the .tmp appears once every event is open), then a bit
    // longer so there are samples to keep.
    for (int i = 0; i < 500 && !fs::exists(out + ".tmp"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(fs::exists(out + ".tmp")) << read_file(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::kill(rec.pid(), sig);
    ProcessResult r = finish(rec, log);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("stopped by SIGINT/SIGTERM"));
    ReadReport report;
    Profile p = read_trace(out, {}, &report);
    EXPECT_TRUE(report.finalized);
    EXPECT_TRUE(p.meta.interrupted);
    EXPECT_GT(p.samples.size(), 0u);
    EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST(LiveRecord, SigintFinalizesTheTrace) {
    REQUIRE_ROOT();
    interrupt_test(SIGINT);
}

TEST(LiveRecord, SigtermFinalizesTheTrace) {
    REQUIRE_ROOT();
    interrupt_test(SIGTERM);
}

TEST(LiveRecord, SigkilledRecordingIsRecoverable) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("killed.data");
    const std::string log = dir.file("killed.log");
    // The workload stops by itself a little after the kill: its recorder is gone.
    Process rec = spawn(kprof_record(out, {"-F", "4999", "--workload", "write", "-d", "5"}), log);
    for (int i = 0; i < 500 && !fs::exists(out + ".tmp"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(fs::exists(out + ".tmp")) << read_file(log);
    // Far fewer samples than one full chunk holds: only the recorder's once-a-second sync
    // puts them in the file.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    ::kill(rec.pid(), SIGKILL);
    ProcessResult killed = finish(rec, log);
    ASSERT_TRUE(killed.signaled());
    ASSERT_FALSE(fs::exists(out));

    ReadReport report;
    Profile p = read_trace(out + ".tmp", {.recover = true}, &report);
    EXPECT_FALSE(report.finalized);
    EXPECT_GT(p.samples.size(), 0u) << "no complete chunk survived the kill";
    EXPECT_FALSE(p.kernel_symbols.empty()) << "metadata is written at the start";
    EXPECT_TRUE(kernel_functions(p, "cpu-clock").count("tcp_sendmsg"));
    // Without --recover the unfinished file is refused; with it, info and report work.
    EXPECT_NE(run({KPROF_BINARY, "info", out + ".tmp"}).exit_code, 0);
    ProcessResult info = run({KPROF_BINARY, "info", "--recover", out});
    EXPECT_EQ(info.exit_code, 0) << info.out;
    EXPECT_THAT(info.out, HasSubstr("cpu-clock"));
    ProcessResult report_run = run({KPROF_BINARY, "report", "--recover", out + ".tmp"});
    EXPECT_EQ(report_run.exit_code, 0) << report_run.out;
    EXPECT_THAT(report_run.out, HasSubstr("tcp_sendmsg"));
    ::waitpid(-1, nullptr, WNOHANG);
}

TEST(LiveRecord, FullFileSystemFailsWithNoSpace) {
    REQUIRE_ROOT();
    TempDir dir;
    const fs::path mnt = fs::path(dir.path()) / "tiny";
    fs::create_directories(mnt);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    const std::string out = (mnt / "t.data").string();
    ProcessResult r = run(kprof_record(out, {"--workload", "write", "-d", "5"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("no space"));
    EXPECT_THAT(r.out, HasSubstr("--recover"));
    EXPECT_FALSE(fs::exists(out));
    // What was written is still there to recover (it may hold no complete chunk on a
    // 64 KiB disk, but reading it must fail cleanly rather than crash).
    if (fs::exists(out + ".tmp")) {
        try {
            read_trace(out + ".tmp", {.recover = true});
        } catch (const Error&) {
        }
    }
}

TEST(LiveRecord, DiskFillingUpMidRecordingLeavesARecoverablePart) {
    REQUIRE_ROOT();
    TempDir dir;
    // How much the start of a trace takes (metadata and kernel symbols, written before
    // the target starts; finish() writes them again, so a finished trace is about twice it).
    const std::string probe = dir.file("probe.data");
    ProcessResult p = run(kprof_record(probe, {"-q", "--", "/bin/true"}));
    ASSERT_EQ(p.exit_code, 0) << p.out;
    const uintmax_t head = fs::file_size(probe) / 2;
    // Room for that and one samples chunk (65536 samples, ~100-170 KB) but not for the rest of a 60
    // s run.
    const fs::path mnt = fs::path(dir.path()) / "small";
    fs::create_directories(mnt);
    const std::string opts = "size=" + std::to_string((head / 4096 + 50) * 4096);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, opts.c_str()) != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    const std::string out = (mnt / "t.data").string();
    ProcessResult r = run(kprof_record(out, {"--workload", "write", "-d", "60", "-e",
                                             "net:net_dev_xmit,kmem:kmem_cache_alloc,kmem:kfree"}));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("no space"));
    ASSERT_TRUE(fs::exists(out + ".tmp"));
    ReadReport report;
    Profile part = read_trace(out + ".tmp", {.recover = true}, &report);
    EXPECT_FALSE(report.finalized);
    EXPECT_GT(part.samples.size(), 0u) << report.note;
    EXPECT_FALSE(part.kernel_symbols.empty());
}

TEST(LiveRecord, UnprivilegedUserIsToldWhatIsMissingAndNoFilesAreLeft) {
    REQUIRE_ROOT();
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "setpriv (util-linux) is not installed";
    const std::string paranoid_path = "/proc/sys/kernel/perf_event_paranoid";
    std::string old = read_file(paranoid_path);
    if (old.empty()) GTEST_SKIP() << "no perf_event_paranoid";
    struct Restore {
        std::string path, value;
        ~Restore() { std::ofstream(path) << value; }
    } restore{paranoid_path, old};
    std::ofstream(paranoid_path) << "2\n";

    TempDir dir;
    fs::permissions(dir.path(), fs::perms::all);
    const fs::path out_dir = fs::path(dir.path()) / "out";
    fs::create_directories(out_dir);
    fs::permissions(out_dir, fs::perms::all);
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                     "--clear-groups", "--inh-caps=-all"};
    for (const std::string& a : kprof_record((out_dir / "u.data").string(), {"--", "/bin/true"}))
        argv.push_back(a);
    ProcessResult r = run(argv);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("perf_event_paranoid is 2"));
    EXPECT_THAT(r.out, HasSubstr("CAP_PERFMON"));
    EXPECT_THAT(r.out, HasSubstr("root"));
    EXPECT_THAT(r.out, HasSubstr("--user-only"));
    EXPECT_TRUE(fs::is_empty(out_dir)) << "files left behind";
}

TEST(LiveRecord, TwoConcurrentRecordingsBothSucceed) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string a = dir.file("a.data"), b = dir.file("b.data");
    Process pa = spawn(kprof_record(a, {"--workload", "write", "-d", "1"}), dir.file("a.log"));
    Process pb =
        spawn(kprof_record(b, {"--workload", "socket", "-d", "1", "-e", "kmem:kmem_cache_alloc"}),
              dir.file("b.log"));
    ProcessResult ra = finish(pa, dir.file("a.log"));
    ProcessResult rb = finish(pb, dir.file("b.log"));
    ASSERT_EQ(ra.exit_code, 0) << ra.out;
    ASSERT_EQ(rb.exit_code, 0) << rb.out;
    Profile pa_trace = read_trace(a), pb_trace = read_trace(b);
    EXPECT_GT(pa_trace.samples.size(), 0u);
    EXPECT_TRUE(kernel_functions(pb_trace, "kmem:kmem_cache_alloc").count("__sys_socket"));
    // Neither saw the other's workload: each trace holds only its own target's samples.
    std::set<uint32_t> pids_a, pids_b;
    for (const Sample& s : pa_trace.samples) pids_a.insert(s.pid);
    for (const Sample& s : pb_trace.samples) pids_b.insert(s.pid);
    for (uint32_t pid : pids_a) EXPECT_FALSE(pids_b.count(pid)) << pid;
}

TEST(LiveRecord, SystemWideRecordsOtherProcesses) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("sys.data");
    const BusyWorkload workload(dir);
    const pid_t busy = workload.pid;
    ProcessResult r = run(kprof_record(out, {"-a", "-d", "1"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    EXPECT_EQ(p.meta.target, "system");
    std::set<uint32_t> pids;
    for (const Sample& s : p.samples) pids.insert(s.pid);
    EXPECT_TRUE(pids.count(static_cast<uint32_t>(busy))) << "the write workload was not sampled";
    // Threads found in /proc at the start carry their names.
    EXPECT_NE(p.find_thread(1), nullptr);
}

TEST(LiveRecord, SystemWideWhileACommandRuns) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("sysc.data");
    const BusyWorkload workload(dir);
    const pid_t busy = workload.pid;
    ProcessResult r = run(kprof_record(out, {"-a", "--", "/bin/sleep", "0.5"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    EXPECT_EQ(p.meta.target, "system while command /bin/sleep 0.5");
    std::set<uint32_t> pids;
    for (const Sample& s : p.samples) pids.insert(s.pid);
    EXPECT_TRUE(pids.count(static_cast<uint32_t>(busy))) << "other processes were not sampled";
}

TEST(LiveRecord, PidTargetRecordsThatProcess) {
    REQUIRE_ROOT();
    TempDir dir;
    const std::string out = dir.file("pid.data");
    const BusyWorkload workload(dir);
    const pid_t busy = workload.pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ProcessResult r = run(kprof_record(out, {"-p", std::to_string(busy), "-d", "1"}));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    Profile p = read_trace(out);
    ASSERT_GT(p.samples.size(), 0u);
    for (const Sample& s : p.samples) EXPECT_EQ(s.pid, static_cast<uint32_t>(busy));
    // Its mappings came from /proc/PID/maps: the kprof binary is among them.
    bool has_binary = false;
    for (const Mapping& m : p.mappings)
        has_binary |= m.pid == static_cast<uint32_t>(busy) &&
                      p.dsos[m.dso].path.find("kprof") != std::string::npos;
    EXPECT_TRUE(has_binary);
}

}  // namespace
}  // namespace kprof
