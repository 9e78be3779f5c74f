#include "collector/perf_events.hpp"

#include <linux/perf_event.h>
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "collector/perf_errors.hpp"
#include "symbols/unwind.hpp"
#include "trace/error.hpp"

namespace kprof::collector {

EventSampling sampling_for(const EventSpec& event, const SamplingOptions& options) {
    if (options.period) return {false, options.period};
    if (event.kind == EventKind::kTracepoint && !options.freq_explicit) return {false, 1};
    return {true, options.freq};
}

void parse_call_graph(std::string_view mode, SamplingOptions& options) {
    const size_t comma = mode.find(',');
    const std::string_view name = mode.substr(0, comma);
    const std::string supported =
        "; the supported modes are fp (frame pointers, the default) and dwarf[,SIZE] (DWARF "
        "unwinding of a SIZE-byte user stack copy, default 8192)";
    // The number after the comma, if any (0 when absent or not a number).
    const std::string text(comma == std::string_view::npos ? "" : mode.substr(comma + 1));
    uint64_t number = 0;
    if (!text.empty() && text[0] != '-') {
        char* end = nullptr;
        number = std::strtoull(text.c_str(), &end, 0);
        if (*end != '\0') number = 0;
    }
    if (name == "fp") {
        // perf's fp,N: N frames at most, as --max-stack N.
        if (comma != std::string_view::npos) {
            if (number == 0 || number > UINT32_MAX)
                throw Error("--call-graph fp," + text +
                            ": the frame limit must be a positive "
                            "number (as --max-stack)");
            options.max_stack = static_cast<uint32_t>(number);
        }
        options.callgraph = true;
        options.dwarf = false;
        return;
    }
    if (name == "dwarf") {
        uint64_t size = kDefaultUserStackCopy;
        if (comma != std::string_view::npos) {
            if (number == 0 || number > kMaxUserStackCopy)
                throw Error("--call-graph dwarf," + text +
                            ": the stack copy size must be a number of bytes from 8 to " +
                            std::to_string(kMaxUserStackCopy) + " (default 8192)");
            size = (number + 7) & ~uint64_t{7};
        }
        options.callgraph = true;
        options.dwarf = true;
        options.user_stack_size = static_cast<uint32_t>(size);
        return;
    }
    if (name == "lbr")
        throw Error(
            "--call-graph lbr is not supported: it needs an Intel PMU with last branch "
            "records (none in a VM), and kprof does not decode them" +
            supported);
    throw Error("--call-graph " + std::string(mode) + ": unknown mode" + supported);
}

SampleLayout sample_layout(const SamplingOptions& options) {
    uint64_t t = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;
    if (options.callgraph) t |= PERF_SAMPLE_CALLCHAIN;
    uint64_t regs_user = 0;
    if (options.callgraph && options.dwarf) {
        t |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
        regs_user = kUnwindRegsMask;
    }
    return SampleLayout{.sample_type = t, .sample_id_all = true, .regs_user = regs_user};
}

perf_event_attr make_attr(const EventSpec& event, const SamplingOptions& options, bool tracking) {
    perf_event_attr a{};
    a.size = sizeof a;
    a.type = event.type;
    a.config = event.config;
    const EventSampling s = sampling_for(event, options);
    a.freq = s.use_freq ? 1 : 0;
    if (s.use_freq)
        a.sample_freq = s.value;
    else
        a.sample_period = s.value;
    a.sample_type = sample_layout(options).sample_type;
    a.sample_id_all = 1;
    a.disabled = 1;
    a.inherit = options.inherit ? 1 : 0;
    a.enable_on_exec = options.enable_on_exec ? 1 : 0;
    a.exclude_hv = 1;
    if (options.user_only) {
        a.exclude_kernel = 1;
        a.exclude_callchain_kernel = 1;
    }
    // User frames too: KernProf showed who in user space drove the kernel path. In dwarf
    // mode they come from unwinding the stack copy, so the kernel walks only its own.
    a.exclude_callchain_user = 0;
    if (options.callgraph) a.sample_max_stack = static_cast<uint16_t>(options.max_stack);
    if (options.callgraph && options.dwarf) {
        a.exclude_callchain_user = 1;
        a.sample_regs_user = kUnwindRegsMask;
        a.sample_stack_user = options.user_stack_size;
    }
    // Sample times on CLOCK_MONOTONIC, so they line up with the recording's start time.
    a.use_clockid = 1;
    a.clockid = CLOCK_MONOTONIC;
    a.watermark = 1;
    a.wakeup_watermark =
        static_cast<uint32_t>(options.ring_pages * 4096 / 4);  // a quarter of the ring
    if (tracking) {
        a.mmap = 1;
        a.mmap2 = 1;
        a.comm = 1;
        a.comm_exec = 1;
        a.task = 1;
    }
    return a;
}

PerfEventSet::PerfEventSet(PerfSystem& sys, const SamplingOptions& options,
                           const std::vector<pid_t>& pids, const std::vector<uint32_t>& cpus,
                           size_t page_size)
    : sys_(sys) {
    const std::vector<pid_t> targets = pids.empty() ? std::vector<pid_t>{-1} : pids;
    for (uint32_t cpu : cpus) {
        int ring_fd = -1;
        for (pid_t pid : targets) {
            for (size_t e = 0; e < options.events.size(); ++e) {
                const EventSpec& ev = options.events[e];
                perf_event_attr attr = make_attr(ev, options, e == 0);
                attr.wakeup_watermark = static_cast<uint32_t>(options.ring_pages * page_size / 4);
                const int fd = sys.open(attr, pid, static_cast<int>(cpu), -1, PERF_FLAG_FD_CLOEXEC);
                if (fd < 0) {
                    const EventSampling s = sampling_for(ev, options);
                    throw Error(open_failure_message(
                        sys, OpenFailure{.err = -fd,
                                         .event = ev.name,
                                         .kind = ev.kind,
                                         .cpu = static_cast<int>(cpu),
                                         .pid = pid,
                                         .user_only = options.user_only,
                                         .freq = s.use_freq ? s.value : 0,
                                         .max_stack = options.callgraph ? options.max_stack : 0}));
                }
                fds_.emplace_back(&sys, fd);
                uint64_t id = 0;
                if (int r = sys.ioctl(fd, PERF_EVENT_IOC_ID, reinterpret_cast<uintptr_t>(&id));
                    r < 0)
                    throw Error("cannot read the id of event '" + ev.name +
                                "' (PERF_EVENT_IOC_ID: " + std::to_string(-r) +
                                "); this kernel is too old for kprof (needs Linux 3.12+)");
                event_by_id_[id] = static_cast<int>(e);
                if (ring_fd < 0) {
                    rings_.emplace_back(sys, fd, cpu, options.ring_pages, page_size);
                    ring_fd = fd;
                } else if (int r = sys.ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT,
                                             static_cast<uintptr_t>(ring_fd));
                           r < 0) {
                    throw Error("cannot redirect event '" + ev.name + "' on CPU " +
                                std::to_string(cpu) + " into the CPU's ring buffer (errno " +
                                std::to_string(-r) + ")");
                }
            }
        }
    }
}

PerfEventSet::~PerfEventSet() {
    rings_.clear();  // unmap before the fds close
}

void PerfEventSet::enable() {
    for (PerfFd& fd : fds_) sys_.ioctl(fd.get(), PERF_EVENT_IOC_ENABLE, 0);
}

void PerfEventSet::disable() {
    for (PerfFd& fd : fds_) sys_.ioctl(fd.get(), PERF_EVENT_IOC_DISABLE, 0);
}

int PerfEventSet::event_of(uint64_t id) const {
    auto it = event_by_id_.find(id);
    return it == event_by_id_.end() ? -1 : it->second;
}

std::vector<uint32_t> parse_cpu_list(std::string_view text) {
    std::vector<uint32_t> out;
    for (const std::string& part : split_list(text)) {
        const size_t dash = part.find('-');
        try {
            const unsigned long lo = std::stoul(part.substr(0, dash));
            const unsigned long hi =
                dash == std::string::npos ? lo : std::stoul(part.substr(dash + 1));
            for (unsigned long c = lo; c <= hi && c < 65536; ++c)
                out.push_back(static_cast<uint32_t>(c));
        } catch (...) {
        }
    }
    return out;
}

std::vector<uint32_t> online_cpus() {
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string line;
    std::getline(in, line);
    std::vector<uint32_t> cpus = parse_cpu_list(line);
    if (cpus.empty()) throw Error("cannot read /sys/devices/system/cpu/online (is /sys mounted?)");
    return cpus;
}

}  // namespace kprof::collector
