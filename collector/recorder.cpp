// One `kprof record` run from start to end: validates the options, starts the target and
// opens the events, writes the trace's fixed parts, then polls the rings, signals and
// target exits until the recording stops, and finishes the trace (symbolization, stacks,
// summary). The pieces it calls live in the record_*.cpp files.
#include "collector/recorder.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>

#include "collector/events.hpp"
#include "collector/profile_builder.hpp"
#include "collector/recorder_internal.hpp"
#include "collector/signal_redirect.hpp"
#include "collector/target.hpp"
#include "collector/workloads/workloads.hpp"
#include "symbols/kallsyms.hpp"
#include "symbols/symbolize.hpp"
#include "trace/error.hpp"
#include "trace/text.hpp"

namespace kprof::collector {
namespace detail {
namespace {

// A file descriptor closed on scope exit.
class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

RecordSummary Recording::run() {
    // Validate everything that does not need the kernel first: no process is started and
    // no file created for a command line that cannot work.
    const bool has_children = !options_.workloads.empty() || !options_.command.empty();
    const int kinds =
        (!options_.workloads.empty()) + (!options_.command.empty()) + (!options_.pids.empty());
    if (kinds == 0 && !options_.system_wide)
        throw Error(
            "nothing to record: give --workload NAMES, -- CMD ARGS, -p PID, or -a (with -d)");
    if (kinds > 1 || (options_.system_wide && !options_.pids.empty()))
        throw Error(
            "give one target only: --workload, -- CMD, -p PID or -a (-a may be combined with "
            "a command or workloads: the whole system while they run)");
    for (const std::string& w : options_.workloads)
        if (!workloads::is_workload(w))
            throw Error("unknown workload '" + w +
                        "'; the built-in workloads are: " + workloads::workload_names());
    if (!options_.command.empty() && !find_executable(options_.command[0]))
        throw Error("cannot run '" + options_.command[0] + "': command not found");
    if (options_.duration_s < 0 || !std::isfinite(options_.duration_s))
        throw Error("-d must be a positive number of seconds");

    sampling_ = options_.sampling;
    sampling_.events = resolve_events(options_);
    const bool task_target = !options_.system_wide;
    sampling_.inherit = task_target;
    // Task events start counting when the held child execs; system-wide ones are simply
    // enabled before the children are let go.
    sampling_.enable_on_exec = has_children && !options_.system_wide;
    check_limits(sampling_, sys_);
    layout_ = sample_layout(sampling_);
    cpus_ = online_cpus();

    SignalRedirect signals;
    start_children(signals.old_mask());
    const std::vector<pid_t> pids = event_pids();
    events_ = std::make_unique<PerfEventSet>(sys_, sampling_, pids, cpus_,
                                             static_cast<size_t>(::sysconf(_SC_PAGESIZE)));

    // The trace model's fixed parts.
    TraceMeta& meta = profile_.meta;
    {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        meta.hostname = host;
        utsname u{};
        ::uname(&u);
        meta.kernel_release = u.release;
        meta.arch = u.machine;
    }
    meta.command_line = options_.command_line;
    meta.target = target_description(options_);
    summary_.target = meta.target;
    meta.kprof_version = options_.kprof_version;
    meta.source_format = "kprof";
    meta.nr_cpus = static_cast<uint32_t>(cpus_.size());
    for (const EventSpec& e : sampling_.events) {
        const EventSampling s = sampling_for(e, sampling_);
        profile_.events.push_back(EventDesc{.name = e.name,
                                            .type = e.type,
                                            .config = e.config,
                                            .use_freq = s.use_freq,
                                            .freq_or_period = s.value});
    }
    ProfileBuilder builder(profile_, events_->event_ids(), cpus_);
    // The whole system over a long run sees thousands of processes come and go: keep in
    // memory only the stacks and mappings of the live ones.
    if (options_.system_wide) builder.stream_stacks();

    profile_.kernel_symbols = read_kallsyms(options_.kallsyms_path);
    if (profile_.kernel_symbols.empty()) {
        warn("no kernel symbols could be read from " + options_.kallsyms_path +
             ": kernel frames will show as addresses");
    } else if (kallsyms_restricted(profile_.kernel_symbols)) {
        meta.kptr_restricted = true;
        // All-zero addresses would resolve every kernel frame to one wrong symbol.
        profile_.kernel_symbols.clear();
        warn(options_.kallsyms_path +
             " shows all-zero addresses (kernel.kptr_restrict hides them from this user): "
             "kernel frames will not resolve; record as root or set "
             "'sysctl kernel.kptr_restrict=0'");
    }

    const uint64_t prepared = clock_ns(CLOCK_MONOTONIC);
    meta.start_time_ns = clock_ns(CLOCK_REALTIME);
    meta.first_sample_ns = prepared;
    // Only now, with every event open, the output file appears. The metadata and symbol
    // snapshot go out first, so a recording cut short is recovered with names (and a full
    // disk shows up before the target even starts).
    writer_.emplace(options_.output);
    try {
        writer_->add_metadata(profile_);
    } catch (const Error& e) {
        fail_writing(e);
    }
    for (size_t i = 0; i < children_.size(); ++i) {
        const ChildProcess& c = children_[i];
        const std::string& path = c.argv()[0];
        const size_t slash = path.rfind('/');
        builder.add_thread(static_cast<uint32_t>(c.pid()), static_cast<uint32_t>(c.pid()),
                           static_cast<uint32_t>(::getpid()),
                           path.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 15),
                           prepared);
    }

    // The recording proper starts here: -d counts from now, however long the set-up took.
    const double cpu_before = process_cpu_seconds();
    const uint64_t start_mono = clock_ns(CLOCK_MONOTONIC);
    meta.start_time_ns = clock_ns(CLOCK_REALTIME);
    meta.first_sample_ns = start_mono;
    if (options_.system_wide || children_.empty()) events_->enable();
    // Existing processes are read from /proc after the events are on, so a process born
    // meanwhile is caught by the scan or by its FORK/COMM records.
    if (!options_.pids.empty() || options_.system_wide) synthesize_from_proc(builder, start_mono);
    try {
        for (ChildProcess& c : children_) c.release();
    } catch (const Error&) {
        // The command could not even start: nothing was recorded, leave no file behind.
        const std::string tmp = writer_->temp_path();
        writer_.reset();
        ::unlink(tmp.c_str());
        throw;
    }

    // The loop: wake on ring watermarks, signals, or every 100 ms to keep the rings and
    // the file moving at low sample rates.
    Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll.get() < 0) throw Error(std::string("epoll_create1: ") + std::strerror(errno));
    auto watch = [&](int fd, uint64_t tag) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = tag;
        ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev);
    };
    constexpr uint64_t kSignalTag = UINT64_MAX;
    constexpr uint64_t kPidTag = 1ULL << 62;
    watch(signals.fd(), kSignalTag);
    for (size_t i = 0; i < events_->rings().size(); ++i) watch(events_->rings()[i].fd(), i);
    // -p targets end when their processes do; a pidfd becomes readable at exit.
    std::map<pid_t, std::unique_ptr<Fd>> live_pids;
    for (pid_t pid : options_.pids) {
        auto fd = std::make_unique<Fd>(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (fd->get() >= 0) watch(fd->get(), kPidTag | static_cast<uint64_t>(pid));
        live_pids.emplace(pid, std::move(fd));
    }

    const uint64_t sec = 1'000'000'000ULL;
    const uint64_t grace = static_cast<uint64_t>(options_.grace_s * 1e9);
    std::optional<uint64_t> stop_at;  // -d for -a/-p/commands; a safety net for workloads
    if (options_.duration_s > 0)
        stop_at = start_mono + static_cast<uint64_t>(options_.duration_s * 1e9) +
                  (options_.workloads.empty() ? 0 : 5 * sec);
    else if (!options_.workloads.empty())
        stop_at = start_mono + static_cast<uint64_t>(options_.workload_default_s * 1e9) + 5 * sec;
    std::optional<uint64_t> kill_at;  // SIGKILL children that outlive their SIGTERM
    bool stop = false;
    epoll_event evs[64];
    while (!stop) {
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        int timeout_ms = 100;
        for (const auto& at : {stop_at, kill_at})
            if (at)
                timeout_ms =
                    std::min<int>(timeout_ms, *at > now ? int((*at - now) / 1000000) + 1 : 0);
        const int n = ::epoll_wait(epoll.get(), evs, 64, timeout_ms);
        for (int i = 0; i < n; ++i) {
            const uint64_t tag = evs[i].data.u64;
            if (tag == kSignalTag) {
                for (int sig : signals.read()) {
                    if (sig != SIGINT && sig != SIGTERM) continue;  // SIGCHLD: reaped below
                    if (summary_.interrupted && !children_.empty()) {
                        signal_children(SIGKILL);  // a second ^C: no more waiting
                    } else {
                        summary_.interrupted = true;
                        meta.interrupted = true;
                        signal_children(sig);
                        if (!kill_at) kill_at = clock_ns(CLOCK_MONOTONIC) + grace;
                    }
                }
            } else if (tag & kPidTag) {
                auto it = live_pids.find(static_cast<pid_t>(tag & ~kPidTag));
                if (it != live_pids.end()) {
                    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, it->second->get(), nullptr);
                    live_pids.erase(it);
                }
            } else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
                // Every task of this ring's events is gone; it is still drained each round.
                ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, events_->rings()[tag].fd(), nullptr);
            }
        }
        drain(builder);

        now = clock_ns(CLOCK_MONOTONIC);
        if (!children_.empty()) {
            if (children_done()) stop = true;
        } else if (!options_.pids.empty()) {
            // Without pidfds (old kernels) a process's end shows as kill(pid, 0) failing.
            for (auto it = live_pids.begin(); it != live_pids.end();)
                it = it->second->get() < 0 && ::kill(it->first, 0) < 0 && errno == ESRCH
                         ? live_pids.erase(it)
                         : std::next(it);
            if (live_pids.empty() || summary_.interrupted) stop = true;
        } else if (summary_.interrupted) {
            stop = true;
        }
        if (stop_at && now >= *stop_at) {
            if (children_.empty()) {
                stop = true;
            } else if (!kill_at) {
                signal_children(SIGTERM);
                kill_at = now + grace;
            }
            stop_at.reset();
        }
        if (kill_at && now >= *kill_at) {
            signal_children(SIGKILL);
            for (ChildProcess& c : children_) c.reap(true);
            kill_at.reset();
        }
    }
    for (ChildProcess& c : children_) c.reap(true);
    events_->disable();
    drain(builder);
    const uint64_t end_mono = clock_ns(CLOCK_MONOTONIC);
    builder.finalize();

    meta.duration_ns = end_mono - start_mono;
    for (size_t i = 0; i < children_.size(); ++i) {
        const TargetStatus st{child_names_[i], children_[i].pid(), children_[i].exit_code()};
        summary_.targets.push_back(st);
        if (summary_.exit_status == 0 && st.exit_code != 0) summary_.exit_status = st.exit_code;
    }
    meta.exit_status = summary_.exit_status;
    const double cpu_after = process_cpu_seconds();
    meta.collector_cpu_seconds = cpu_after - cpu_before;
    for (const RingBuffer& r : events_->rings()) summary_.corrupt_ring_bytes += r.corrupt_bytes();
    events_.reset();

    if (options_.symbolize) {
        try {
            // System-wide, hundreds of processes hit binaries whose DWARF (embedded or in
            // separate debug files) would dominate the recording's own CPU time and
            // memory (libdw keeps what it parsed: ~70 MB for one large -g binary), so -a
            // resolves function names only; file:line and inlined frames are for
            // recordings of a command or workload.
            SymbolizeOptions symbolize;
            symbolize.debug_info = !options_.system_wide;
            if (options_.system_wide)
                symbolize_addresses(profile_, builder.user_addresses(), symbolize);
            else
                symbolize_profile(profile_, symbolize);
        } catch (const std::exception& e) {
            warn(std::string("user-space symbolization failed (") + e.what() +
                 "); user frames stay unresolved");
        }
    }
    try {
        writer_->add_stacks(profile_.stacks);
        writer_->finish(profile_);
    } catch (const Error& e) {
        fail_writing(e);
    }

    summary_.output = options_.output;
    summary_.events = profile_.events;
    summary_.losses = profile_.losses;
    summary_.samples = builder.counters().samples;
    summary_.stacks = profile_.stacks.size();
    summary_.trace_bytes = writer_->bytes_written();
    summary_.seconds = static_cast<double>(meta.duration_ns) / 1e9;
    summary_.collector_cpu_s = meta.collector_cpu_seconds;
    summary_.unknown_records = builder.counters().unknown_records;
    summary_.malformed_records = builder.counters().malformed_records;
    if (builder.counters().unknown_event_samples)
        warn(std::to_string(builder.counters().unknown_event_samples) +
             " samples carried an unknown event id and were dropped");
    return summary_;
}

}  // namespace detail

RecordSummary record(const RecordOptions& options, PerfSystem& sys, std::FILE* log) {
    detail::Recording r(options, sys, log);
    return r.run();
}

}  // namespace kprof::collector
