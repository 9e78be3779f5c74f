// Opening events through a fake PerfSystem: the attrs kprof asks for, how events share a
// CPU's ring, and the messages users get when the kernel says no.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>

#include <cerrno>
#include <map>

#include "collector/perf_errors.hpp"
#include "collector/perf_events.hpp"
#include "record_bytes.hpp"
#include "trace/error.hpp"

namespace kprof::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct OpenCall {
    perf_event_attr attr;
    pid_t pid;
    int cpu;
    unsigned long flags;
};

class FakePerfSystem : public PerfSystem {
  public:
    int open_errno = 0;     // fail every open with this
    int fail_on_call = -1;  // only the n-th open fails (0-based)
    int mmap_errno = 0;
    std::map<std::string, std::string> sysctls = {{"perf_event_paranoid", "2"},
                                                  {"perf_event_mlock_kb", "516"},
                                                  {"perf_event_max_sample_rate", "100000"},
                                                  {"perf_event_max_stack", "127"}};
    std::vector<OpenCall> opens;
    std::vector<int> closed;
    std::vector<std::pair<int, int>> set_output;  // (fd, target fd)
    std::vector<int> enabled;
    std::vector<std::vector<uint8_t>> maps;

    int open(const perf_event_attr& attr, pid_t pid, int cpu, int, unsigned long flags) override {
        const int n = static_cast<int>(opens.size());
        opens.push_back({attr, pid, cpu, flags});
        if (open_errno && (fail_on_call < 0 || fail_on_call == n)) return -open_errno;
        return 100 + n;
    }
    void* map(int, size_t length, int* err) override {
        if (mmap_errno) {
            *err = mmap_errno;
            return nullptr;
        }
        maps.emplace_back(length, 0);
        return maps.back().data();
    }
    void unmap(void*, size_t) override { ++unmaps; }
    int ioctl(int fd, unsigned long request, uintptr_t arg) override {
        if (request == PERF_EVENT_IOC_ID) {
            *reinterpret_cast<uint64_t*>(arg) = static_cast<uint64_t>(fd) * 10;
        } else if (request == PERF_EVENT_IOC_SET_OUTPUT) {
            set_output.emplace_back(fd, static_cast<int>(arg));
        } else if (request == PERF_EVENT_IOC_ENABLE) {
            enabled.push_back(fd);
        }
        return 0;
    }
    void close(int fd) override { closed.push_back(fd); }
    std::optional<std::string> read_sysctl(const std::string& name) override {
        auto it = sysctls.find(name);
        if (it == sysctls.end()) return std::nullopt;
        return it->second;
    }
    int unmaps = 0;
};

SamplingOptions two_events() {
    SamplingOptions o;
    o.events = {
        EventSpec{"cpu-clock", EventKind::kSoftware, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
        EventSpec{"net:net_dev_xmit", EventKind::kTracepoint, PERF_TYPE_TRACEPOINT, 1520}};
    o.ring_pages = 4;
    return o;
}

std::string open_error(FakePerfSystem& sys, const SamplingOptions& o, std::vector<pid_t> pids) {
    try {
        PerfEventSet set(sys, o, pids, {0, 1}, 4096);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(PerfEventSet, OneEventPerCpuPerTypeSharingTheCpuRing) {
    FakePerfSystem sys;
    SamplingOptions o = two_events();
    o.inherit = true;
    o.enable_on_exec = true;
    {
        PerfEventSet set(sys, o, {4242}, {0, 1}, 4096);
        ASSERT_EQ(sys.opens.size(), 4u);
        EXPECT_EQ(set.rings().size(), 2u);
        EXPECT_EQ(sys.maps.size(), 2u);
        EXPECT_EQ(sys.maps[0].size(), 5u * 4096);  // metadata page + 4 data pages
        // The tracepoint on each CPU writes into that CPU's cpu-clock ring.
        ASSERT_EQ(sys.set_output.size(), 2u);
        EXPECT_EQ(sys.set_output[0], std::make_pair(101, 100));
        EXPECT_EQ(sys.set_output[1], std::make_pair(103, 102));
        EXPECT_EQ(set.event_of(1000), 0);
        EXPECT_EQ(set.event_of(1010), 1);
        EXPECT_EQ(set.event_of(1030), 1);
        EXPECT_EQ(set.event_of(5), -1);
        for (const OpenCall& c : sys.opens) {
            EXPECT_EQ(c.pid, 4242);
            EXPECT_TRUE(c.flags & PERF_FLAG_FD_CLOEXEC);
            EXPECT_EQ(c.attr.inherit, 1u);
            EXPECT_EQ(c.attr.enable_on_exec, 1u);
            EXPECT_EQ(c.attr.disabled, 1u);
            EXPECT_EQ(c.attr.sample_id_all, 1u);
            EXPECT_TRUE(c.attr.sample_type & PERF_SAMPLE_IDENTIFIER);
            EXPECT_TRUE(c.attr.sample_type & PERF_SAMPLE_CALLCHAIN);
            EXPECT_EQ(c.attr.exclude_callchain_user, 0u);
            EXPECT_EQ(c.attr.exclude_kernel, 0u);
            EXPECT_EQ(c.attr.sample_max_stack, 127u);
        }
        // Only the first event per CPU carries the side-band records.
        EXPECT_EQ(sys.opens[0].attr.mmap2, 1u);
        EXPECT_EQ(sys.opens[0].attr.comm_exec, 1u);
        EXPECT_EQ(sys.opens[0].attr.task, 1u);
        EXPECT_EQ(sys.opens[1].attr.mmap2, 0u);
        EXPECT_EQ(sys.opens[1].attr.task, 0u);
        // cpu-clock by frequency, the tracepoint every hit.
        EXPECT_EQ(sys.opens[0].attr.freq, 1u);
        EXPECT_EQ(sys.opens[0].attr.sample_freq, 999u);
        EXPECT_EQ(sys.opens[1].attr.freq, 0u);
        EXPECT_EQ(sys.opens[1].attr.sample_period, 1u);
        EXPECT_EQ(sys.opens[0].cpu, 0);
        EXPECT_EQ(sys.opens[2].cpu, 1);
        set.enable();
        EXPECT_EQ(sys.enabled.size(), 4u);
    }
    EXPECT_EQ(sys.closed.size(), 4u);
    EXPECT_EQ(sys.unmaps, 2);
}

TEST(PerfEventSet, SystemWideAndPeriodAndFlat) {
    FakePerfSystem sys;
    SamplingOptions o = two_events();
    o.period = 5000;
    o.callgraph = false;
    o.user_only = true;
    PerfEventSet set(sys, o, {}, {0, 1}, 4096);
    for (const OpenCall& c : sys.opens) {
        EXPECT_EQ(c.pid, -1);
        EXPECT_EQ(c.attr.inherit, 0u);
        EXPECT_EQ(c.attr.freq, 0u);
        EXPECT_EQ(c.attr.sample_period, 5000u);
        EXPECT_FALSE(c.attr.sample_type & PERF_SAMPLE_CALLCHAIN);
        EXPECT_EQ(c.attr.exclude_kernel, 1u);
    }
}

TEST(PerfEventSet, DwarfModeCopiesUserRegistersAndStackInsteadOfWalkingUserFrames) {
    FakePerfSystem sys;
    SamplingOptions o = two_events();
    parse_call_graph("dwarf,4000", o);
    PerfEventSet set(sys, o, {42}, {0}, 4096);
    for (const OpenCall& c : sys.opens) {
        EXPECT_TRUE(c.attr.sample_type & PERF_SAMPLE_CALLCHAIN);
        EXPECT_TRUE(c.attr.sample_type & PERF_SAMPLE_REGS_USER);
        EXPECT_TRUE(c.attr.sample_type & PERF_SAMPLE_STACK_USER);
        EXPECT_EQ(c.attr.sample_regs_user, kUnwindRegsMask);
        EXPECT_EQ(c.attr.sample_stack_user, 4000u);
        EXPECT_EQ(c.attr.exclude_callchain_user, 1u);  // the kernel walks only its frames
        EXPECT_EQ(c.attr.exclude_callchain_kernel, 0u);
    }
    EXPECT_EQ(sample_layout(o).regs_user, kUnwindRegsMask);
    // Frame pointers (the default): no copies, user frames from the kernel's walk.
    parse_call_graph("fp", o);
    EXPECT_FALSE(o.dwarf);
    const perf_event_attr fp = make_attr(o.events[0], o, true);
    EXPECT_FALSE(fp.sample_type & (PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER));
    EXPECT_EQ(fp.exclude_callchain_user, 0u);
    EXPECT_EQ(sample_layout(o).regs_user, 0u);
}

TEST(CallGraphMode, PerfsSpellingsAreAccepted) {
    SamplingOptions o;
    parse_call_graph("dwarf", o);
    EXPECT_TRUE(o.callgraph);
    EXPECT_TRUE(o.dwarf);
    EXPECT_EQ(o.user_stack_size, 8192u);
    parse_call_graph("dwarf,100", o);
    EXPECT_EQ(o.user_stack_size, 104u) << "rounded up to 8 bytes, as perf does";
    parse_call_graph("dwarf,65528", o);
    EXPECT_EQ(o.user_stack_size, 65528u);
    parse_call_graph("fp,32", o);
    EXPECT_FALSE(o.dwarf);
    EXPECT_EQ(o.max_stack, 32u);
}

TEST(CallGraphMode, OthersAreRefusedNamingWhatIsSupported) {
    auto error = [](const char* mode) {
        SamplingOptions o;
        try {
            parse_call_graph(mode, o);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string lbr = error("lbr");
    EXPECT_THAT(lbr, HasSubstr("--call-graph lbr is not supported"));
    EXPECT_THAT(lbr, HasSubstr("fp (frame pointers, the default) and dwarf[,SIZE]"));
    EXPECT_THAT(error("frame"), HasSubstr("unknown mode; the supported modes are fp"));
    for (const char* bad : {"dwarf,0", "dwarf,65536", "dwarf,-8", "dwarf,8k", "dwarf,"})
        EXPECT_THAT(error(bad), HasSubstr("from 8 to 65528")) << bad;
    EXPECT_THAT(error("fp,0"), HasSubstr("frame limit must be a positive number"));
}

TEST(PerfEventSet, ExplicitFrequencyAppliesToTracepoints) {
    SamplingOptions o = two_events();
    o.freq = 200;
    o.freq_explicit = true;
    EXPECT_EQ(sampling_for(o.events[1], o).use_freq, true);
    EXPECT_EQ(sampling_for(o.events[1], o).value, 200u);
    o.freq_explicit = false;
    EXPECT_EQ(sampling_for(o.events[1], o).use_freq, false);
}

TEST(PerfErrors, PermissionDeniedNamesParanoidRootAndCapPerfmon) {
    FakePerfSystem sys;
    sys.open_errno = EACCES;
    const std::string msg = open_error(sys, two_events(), {4242});
    EXPECT_THAT(msg, HasSubstr("permission denied"));
    EXPECT_THAT(msg, HasSubstr("/proc/sys/kernel/perf_event_paranoid is 2"));
    EXPECT_THAT(msg, HasSubstr("root"));
    EXPECT_THAT(msg, HasSubstr("CAP_PERFMON"));
    EXPECT_THAT(msg, HasSubstr("--user-only"));
    EXPECT_TRUE(sys.closed.empty());  // nothing was opened
}

TEST(PerfErrors, PermissionDeniedSystemWideAndHighParanoid) {
    FakePerfSystem sys;
    sys.open_errno = EPERM;
    sys.sysctls["perf_event_paranoid"] = "3";
    const std::string msg = open_error(sys, two_events(), {});
    EXPECT_THAT(msg, HasSubstr("perf_event_paranoid is 3"));
    EXPECT_THAT(msg, HasSubstr("-a"));
    EXPECT_THAT(msg, HasSubstr("even user-only profiling is disabled"));
}

TEST(PerfErrors, HardwareEventWithoutPmu) {
    FakePerfSystem sys;
    sys.open_errno = ENOENT;
    SamplingOptions o;
    o.events = {
        EventSpec{"cycles", EventKind::kHardware, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES}};
    EXPECT_EQ(open_error(sys, o, {1}),
              "hardware event 'cycles' is not supported on this machine (no PMU, e.g. in a "
              "VM); use -e cpu-clock");
    sys.open_errno = EOPNOTSUPP;
    EXPECT_THAT(open_error(sys, o, {1}), HasSubstr("no PMU"));
}

TEST(PerfErrors, FailureHalfWayClosesWhatWasOpened) {
    FakePerfSystem sys;
    sys.open_errno = EMFILE;
    sys.fail_on_call = 3;
    const std::string msg = open_error(sys, two_events(), {1});
    EXPECT_THAT(msg, HasSubstr("ulimit -n"));
    EXPECT_EQ(sys.closed.size(), 3u);
    EXPECT_EQ(sys.unmaps, 2);
}

TEST(PerfErrors, InvalidArgumentMentionsLimits) {
    FakePerfSystem sys;
    sys.open_errno = EINVAL;
    sys.sysctls["perf_event_max_sample_rate"] = "12500";
    const std::string msg = open_error(sys, two_events(), {1});
    EXPECT_THAT(msg, HasSubstr("perf_event_max_sample_rate (12500)"));
    EXPECT_THAT(msg, HasSubstr("--max-stack"));
}

TEST(PerfErrors, MmapFailureSuggestsSmallerRingOrMlockKb) {
    FakePerfSystem sys;
    sys.mmap_errno = EPERM;
    const std::string msg = open_error(sys, two_events(), {1});
    EXPECT_THAT(msg, HasSubstr("-m"));
    EXPECT_THAT(msg, HasSubstr("/proc/sys/kernel/perf_event_mlock_kb (now 516)"));
    EXPECT_THAT(msg, HasSubstr("CPU 0"));
    EXPECT_EQ(sys.closed.size(), 1u);
}

TEST(PerfErrors, NoSuchProcess) {
    FakePerfSystem sys;
    sys.open_errno = ESRCH;
    EXPECT_THAT(open_error(sys, two_events(), {99999}), HasSubstr("process 99999 does not exist"));
}

// The ring reader over fake mapped memory: head/tail handling across a wrap.
TEST(RingBuffer, ReadsUpToHeadAndAdvancesTail) {
    FakePerfSystem sys;
    RingBuffer ring(sys, 7, 3, 1, 4096);
    ASSERT_EQ(sys.maps.size(), 1u);
    auto* meta = reinterpret_cast<perf_event_mmap_page*>(sys.maps[0].data());
    uint8_t* data = sys.maps[0].data() + 4096;
    auto rec =
        testing::sample_bytes(1, 0xffffffff81000000ULL, 1, 1, 5, 3, 1,
                              {static_cast<uint64_t>(PERF_CONTEXT_KERNEL), 0xffffffff81000000ULL});
    // Place it so it wraps: positions 4096*3 + 4096 - 16.
    const uint64_t start = 4096 * 3 + 4096 - 16;
    for (size_t i = 0; i < rec.size(); ++i) data[(start + i) % 4096] = rec[i];
    meta->data_tail = start;
    meta->data_head = start + rec.size();
    std::vector<std::vector<uint8_t>> seen;
    const uint64_t n =
        ring.read([&](std::span<const uint8_t> r) { seen.emplace_back(r.begin(), r.end()); });
    EXPECT_EQ(n, rec.size());
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], rec);
    EXPECT_EQ(meta->data_tail, start + rec.size());
    EXPECT_EQ(ring.read([&](std::span<const uint8_t>) { FAIL(); }), 0u);
}

}  // namespace
}  // namespace kprof::collector
