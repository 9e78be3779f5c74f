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
#include "collector/target.hpp"
#include "collector/workloads/workloads.hpp"
#include "symbols/kallsyms.hpp"
#include "symbols/symbolize.hpp"
#include "trace/error.hpp"
#include "trace/text.hpp"

namespace kprof::collector {
namespace {

uint64_t clock_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

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

// Blocks SIGINT, SIGTERM and SIGCHLD for the recording and delivers them through a
// signalfd into the epoll loop; restores the old mask on exit (children restore it
// themselves before exec).
class SignalRedirect {
  public:
    SignalRedirect() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &set, &old_);
        fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd_ < 0) {
            const int e = errno;
            ::sigprocmask(SIG_SETMASK, &old_, nullptr);
            throw Error(std::string("signalfd failed: ") + std::strerror(e));
        }
    }
    ~SignalRedirect() {
        // A SIGINT that arrived while the trace was being finalized has been honoured
        // already (we were stopping): consume it instead of dying on unblock.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGCHLD);
        timespec zero{};
        while (::sigtimedwait(&set, nullptr, &zero) > 0) {
        }
        ::close(fd_);
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalRedirect(const SignalRedirect&) = delete;
    SignalRedirect& operator=(const SignalRedirect&) = delete;
    int fd() const { return fd_; }
    const sigset_t& old_mask() const { return old_; }
    // The signals received since the last call.
    std::vector<int> read() {
        std::vector<int> out;
        signalfd_siginfo info{};
        while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
            out.push_back(static_cast<int>(info.ssi_signo));
        return out;
    }

  private:
    sigset_t old_{};
    int fd_ = -1;
};

std::string self_exe() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "/proc/self/exe";
    return std::string(buf, static_cast<size_t>(n));
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

uint64_t parse_u64(const std::optional<std::string>& s, uint64_t fallback) {
    if (!s) return fallback;
    try {
        return std::stoull(*s);
    } catch (...) {
        return fallback;
    }
}

std::vector<EventSpec> resolve_events(const RecordOptions& options) {
    std::vector<std::string> names;
    for (const std::string& e : options.events)
        for (std::string& n : split_list(e)) names.push_back(std::move(n));
    if (names.empty()) names.push_back("cpu-clock");
    if (names.size() > 64) throw Error("too many events (at most 64 in one recording)");

    const std::vector<std::string> builtins = builtin_event_names();
    const bool need_tracefs = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
        return std::find(builtins.begin(), builtins.end(), n) == builtins.end();
    });
    const bool have_tracepoints = std::any_of(names.begin(), names.end(), [](const std::string& n) {
        return n.find(':') != std::string::npos;
    });
    std::optional<Tracefs> tracefs;
    if (need_tracefs) {
        try {
            tracefs =
                options.tracefs_root.empty() ? Tracefs::system() : Tracefs(options.tracefs_root);
        } catch (const Error&) {
            if (have_tracepoints) throw;  // else: only the suggestions are poorer
        }
    }
    std::vector<EventSpec> out;
    for (const std::string& n : names) {
        EventSpec spec = resolve_event(n, tracefs ? &*tracefs : nullptr);
        for (const EventSpec& prev : out)
            if (prev.type == spec.type && prev.config == spec.config)
                throw Error("event '" + n + "' is given twice; give each event once");
        out.push_back(std::move(spec));
    }
    return out;
}

// Checks -F, -c, --max-stack and -m against the kernel's limits before anything starts,
// so the user hears which option to change rather than "Invalid argument".
void check_limits(SamplingOptions& s, PerfSystem& sys) {
    if (s.ring_pages == 0 || (s.ring_pages & (s.ring_pages - 1)) != 0)
        throw Error("-m " + std::to_string(s.ring_pages) +
                    ": the ring size must be a power of two number of pages (e.g. 64, 128)");
    if (!s.period && (s.freq == 0))
        throw Error("-F 0: the sampling frequency must be at least 1 Hz");
    const bool any_freq =
        !s.period && std::any_of(s.events.begin(), s.events.end(),
                                 [&](const EventSpec& e) { return sampling_for(e, s).use_freq; });
    if (any_freq) {
        const uint64_t max_rate = parse_u64(sys.read_sysctl("perf_event_max_sample_rate"), 0);
        if (max_rate && s.freq > max_rate)
            throw Error("-F " + std::to_string(s.freq) +
                        " exceeds /proc/sys/kernel/perf_event_max_sample_rate (" +
                        std::to_string(max_rate) + "): use a lower -F or raise the sysctl");
    }
    if (s.callgraph) {
        const uint64_t max_stack = parse_u64(sys.read_sysctl("perf_event_max_stack"), 127);
        if (s.max_stack > max_stack)
            throw Error("--max-stack " + std::to_string(s.max_stack) +
                        " exceeds /proc/sys/kernel/perf_event_max_stack (" +
                        std::to_string(max_stack) +
                        "): use a lower --max-stack or raise the sysctl");
        if (s.max_stack == 0) throw Error("--max-stack 0: use --no-callgraph for PC sampling");
    }
}

std::string target_description(const RecordOptions& o) {
    // -a with a command or workloads: the whole system, for as long as they run.
    const std::string sys = o.system_wide ? "system while " : "";
    if (!o.workloads.empty()) return sys + "workload " + join(o.workloads, ",");
    if (!o.command.empty()) return sys + "command " + join(o.command, " ");
    if (!o.pids.empty()) {
        std::vector<std::string> p;
        for (pid_t pid : o.pids) p.push_back(std::to_string(pid));
        return "pid " + join(p, ",");
    }
    return "system";
}

bool looks_like_no_space(const std::string& message, const std::string& path) {
    if (message.find(std::strerror(ENOSPC)) != std::string::npos ||
        message.find("ENOSPC") != std::string::npos ||
        message.find("no space") != std::string::npos)
        return true;
    std::string dir = path;
    const size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
    struct statvfs st {};
    return ::statvfs(dir.c_str(), &st) == 0 && st.f_bavail == 0;
}

class Recording {
  public:
    Recording(const RecordOptions& options, PerfSystem& sys, std::FILE* log)
        : options_(options), sys_(sys), log_(log) {}

    RecordSummary run();

  private:
    void warn(const std::string& msg) {
        summary_.warnings.push_back(msg);
        if (log_) std::fprintf(log_, "kprof record: warning: %s\n", msg.c_str());
    }
    void start_children(const sigset_t& child_mask);
    std::vector<pid_t> event_pids();
    void synthesize_from_proc(ProfileBuilder& builder, uint64_t now);
    void drain(ProfileBuilder& builder);
    void flush(ProfileBuilder& builder);
    bool children_done() {
        for (ChildProcess& c : children_) c.reap(false);
        return std::all_of(children_.begin(), children_.end(),
                           [](const ChildProcess& c) { return c.exited(); });
    }
    void signal_children(int sig) {
        for (ChildProcess& c : children_) c.kill(sig);
    }
    [[noreturn]] void fail_writing(const Error& e);

    const RecordOptions& options_;
    PerfSystem& sys_;
    std::FILE* log_;
    SamplingOptions sampling_;
    std::vector<uint32_t> cpus_;
    std::vector<ChildProcess> children_;
    std::vector<std::string> child_names_;
    std::unique_ptr<PerfEventSet> events_;
    std::optional<TraceWriter> writer_;
    uint64_t last_sync_ns_ = 0;
    Profile profile_;
    RecordSummary summary_;
    SampleLayout layout_;

    // One drain round's records, copied out of the rings so they can be put in time
    // order across CPUs before they update threads, generations and mappings.
    struct Pending {
        uint64_t time;
        size_t offset;
        size_t size;
        uint32_t cpu;
    };
    std::vector<uint8_t> arena_;
    std::vector<Pending> pending_;
};

void Recording::start_children(const sigset_t& child_mask) {
    if (!options_.workloads.empty()) {
        const std::string exe = options_.kprof_binary.empty() ? self_exe() : options_.kprof_binary;
        workloads::Options wo;
        wo.duration_s = options_.duration_s > 0 ? options_.duration_s : options_.workload_default_s;
        wo.size = options_.workload_size;
        for (const std::string& name : options_.workloads) {
            children_.emplace_back(workloads::workload_argv(exe, name, wo), child_mask);
            child_names_.push_back(name);
        }
    } else if (!options_.command.empty()) {
        children_.emplace_back(options_.command, child_mask);
        child_names_.push_back(join(options_.command, " "));
    }
}

std::vector<pid_t> Recording::event_pids() {
    std::vector<pid_t> pids;
    if (options_.system_wide) return pids;
    for (const ChildProcess& c : children_) pids.push_back(c.pid());
    for (pid_t pid : options_.pids) {
        const std::vector<ProcThread> threads = proc_threads(pid);
        if (threads.empty())
            throw Error("process " + std::to_string(pid) + " does not exist (or /proc/" +
                        std::to_string(pid) + "/task is unreadable); check the pid given to -p");
        for (const ProcThread& t : threads) pids.push_back(static_cast<pid_t>(t.tid));
    }
    return pids;
}

void Recording::synthesize_from_proc(ProfileBuilder& builder, uint64_t now) {
    std::vector<pid_t> pids = options_.system_wide ? proc_pids() : options_.pids;
    for (pid_t pid : pids) {
        for (const ProcThread& t : proc_threads(pid))
            builder.add_thread(t.pid, t.tid, t.ppid, t.comm, now);
        for (const ProcMapping& m : proc_maps(pid))
            builder.add_mapping(static_cast<uint32_t>(pid), m, now);
    }
}

void Recording::drain(ProfileBuilder& builder) {
    arena_.clear();
    pending_.clear();
    for (RingBuffer& ring : events_->rings()) {
        ring.read([&](std::span<const uint8_t> rec) {
            pending_.push_back(Pending{0, arena_.size(), rec.size(), ring.cpu()});
            arena_.insert(arena_.end(), rec.begin(), rec.end());
        });
    }
    if (pending_.empty()) return;
    for (Pending& p : pending_)
        p.time = record_time(decode_record({arena_.data() + p.offset, p.size}, layout_));
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Pending& a, const Pending& b) { return a.time < b.time; });
    for (const Pending& p : pending_)
        builder.add(decode_record({arena_.data() + p.offset, p.size}, layout_), p.cpu);
    flush(builder);
}

void Recording::flush(ProfileBuilder& builder) {
    if (profile_.samples.empty()) return;
    try {
        writer_->add_stacks(profile_.stacks);
        writer_->add_new_stacks(builder.fresh_stacks());
        builder.clear_fresh_stacks();
        writer_->add_samples(profile_.samples);
        // At most a second of samples sits in memory only: a killed recording loses no
        // more than that (kprof info --recover reads the rest).
        const uint64_t now = clock_ns(CLOCK_MONOTONIC);
        if (now - last_sync_ns_ >= 1000000000ULL) {
            writer_->sync();
            last_sync_ns_ = now;
        }
    } catch (const Error& e) {
        fail_writing(e);
    }
    profile_.samples.clear();
}

void Recording::fail_writing(const Error& e) {
    // Stop the target first: a recorder that cannot write must not leave it running
    // unobserved (nor hang waiting for it).
    signal_children(SIGTERM);
    const uint64_t give_up = clock_ns(CLOCK_MONOTONIC) + 2'000'000'000ULL;
    while (!children_done() && clock_ns(CLOCK_MONOTONIC) < give_up) ::usleep(20'000);
    signal_children(SIGKILL);
    for (ChildProcess& c : children_) c.reap(true);
    const std::string tmp = writer_ ? writer_->temp_path() : options_.output + ".tmp";
    std::string msg = e.what();
    if (looks_like_no_space(msg, options_.output) && msg.find("no space") == std::string::npos)
        msg = "no space left on device: " + msg;
    else if (msg.find("no space") == std::string::npos)
        msg = "writing the trace failed: " + msg;
    if (msg.find("--recover") == std::string::npos)
        msg += "; the part already written is in " + tmp + " ('kprof info --recover " + tmp + "')";
    throw Error(msg);
}

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

}  // namespace

std::string format_summary(const RecordSummary& s) {
    std::string out;
    char line[512];
    std::snprintf(line, sizeof line, "kprof record: %llu samples in %.2f s (%s)\n",
                  static_cast<unsigned long long>(s.samples), s.seconds,
                  escape_text(s.target).c_str());
    out += line;
    for (const EventDesc& e : s.events) {
        std::snprintf(line, sizeof line, "  %-28s %10llu samples  (%s %llu)\n",
                      escape_text(e.name).c_str(), static_cast<unsigned long long>(e.samples),
                      e.use_freq ? "-F" : "-c", static_cast<unsigned long long>(e.freq_or_period));
        out += line;
    }
    CpuLoss total;
    for (const CpuLoss& l : s.losses) {
        total.lost_records += l.lost_records;
        total.lost_samples += l.lost_samples;
        total.throttles += l.throttles;
        total.unthrottles += l.unthrottles;
    }
    std::snprintf(line, sizeof line, "  lost: %llu records, %llu samples; throttled %llu times\n",
                  static_cast<unsigned long long>(total.lost_records),
                  static_cast<unsigned long long>(total.lost_samples),
                  static_cast<unsigned long long>(total.throttles));
    out += line;
    for (const CpuLoss& l : s.losses) {
        if (!l.lost_records && !l.lost_samples && !l.throttles) continue;
        std::snprintf(line, sizeof line,
                      "    CPU %u: %llu lost records, %llu lost samples, %llu throttles\n", l.cpu,
                      static_cast<unsigned long long>(l.lost_records),
                      static_cast<unsigned long long>(l.lost_samples),
                      static_cast<unsigned long long>(l.throttles));
        out += line;
    }
    if (total.lost_records || total.lost_samples)
        out += "    (raise -m PAGES or lower -F to lose less)\n";
    const double per_sample = s.samples ? s.collector_cpu_s / static_cast<double>(s.samples) : 0;
    std::snprintf(line, sizeof line, "  collector CPU time: %.3f s (%.2f us per sample)\n",
                  s.collector_cpu_s, per_sample * 1e6);
    out += line;
    std::snprintf(line, sizeof line, "  wrote %s: %.2f MB, %llu unique stacks\n",
                  escape_text(s.output).c_str(), static_cast<double>(s.trace_bytes) / 1e6,
                  static_cast<unsigned long long>(s.stacks));
    out += line;
    for (const TargetStatus& t : s.targets) {
        std::string status =
            t.exit_code >= 0
                ? "exited with status " + std::to_string(t.exit_code)
                : std::string("killed by signal ") + std::to_string(-t.exit_code) + " (" +
                      (sigabbrev_np(-t.exit_code) ? std::string("SIG") + sigabbrev_np(-t.exit_code)
                                                  : "?") +
                      ")";
        std::snprintf(line, sizeof line, "  %s (pid %d): %s\n", escape_text(t.name).c_str(),
                      static_cast<int>(t.pid), status.c_str());
        out += line;
    }
    if (s.interrupted) out += "  stopped by SIGINT/SIGTERM\n";
    if (s.malformed_records || s.corrupt_ring_bytes) {
        std::snprintf(line, sizeof line,
                      "  skipped %llu malformed records and %llu corrupt ring bytes\n",
                      static_cast<unsigned long long>(s.malformed_records),
                      static_cast<unsigned long long>(s.corrupt_ring_bytes));
        out += line;
    }
    return out;
}

double process_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return secs(ru.ru_utime) + secs(ru.ru_stime);
}

RecordSummary record(const RecordOptions& options, PerfSystem& sys, std::FILE* log) {
    Recording r(options, sys, log);
    return r.run();
}

}  // namespace kprof::collector
