#include "collector/perf_errors.hpp"

#include <cerrno>
#include <cstring>

namespace kprof::collector {
namespace {

std::string sysctl_value(PerfSystem& sys, const std::string& name) {
    auto v = sys.read_sysctl(name);
    return v ? *v : std::string("unreadable");
}

std::string where(const OpenFailure& f) {
    std::string s = "'" + f.event + "'";
    if (f.pid >= 0) s += " for pid " + std::to_string(f.pid);
    if (f.cpu >= 0) s += " on CPU " + std::to_string(f.cpu);
    return s;
}

std::string permission_message(PerfSystem& sys, const OpenFailure& f) {
    const std::string paranoid = sysctl_value(sys, "perf_event_paranoid");
    std::string msg = "permission denied opening event " + where(f) + " (" + std::strerror(f.err) +
                      "; /proc/sys/kernel/perf_event_paranoid is " + paranoid + "). ";
    int level = 2;
    try {
        level = std::stoi(paranoid);
    } catch (...) {
    }
    if (f.pid < 0) {
        msg +=
            "System-wide recording (-a) needs root or CAP_PERFMON (CAP_SYS_ADMIN before Linux "
            "5.8), or perf_event_paranoid <= 0 ('sysctl kernel.perf_event_paranoid=0').";
    } else if (f.user_only) {
        msg +=
            "Even user-only profiling is disabled at this level: it needs "
            "perf_event_paranoid <= 2 ('sysctl kernel.perf_event_paranoid=2'), root or "
            "CAP_PERFMON.";
        return msg;
    } else {
        msg +=
            "Kernel call stacks need root or CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8), "
            "or perf_event_paranoid <= 1 ('sysctl kernel.perf_event_paranoid=1').";
    }
    if (f.kind == EventKind::kTracepoint)
        msg += " Tracepoints also need read access to tracefs, which normally means root.";
    if (level <= 2)
        msg +=
            " User-only profiling of your own processes still works at this level: "
            "kprof record --user-only -- CMD (user-space stacks, no kernel frames).";
    else
        msg += " At this level (> 2) even user-only profiling is disabled.";
    return msg;
}

}  // namespace

std::string open_failure_message(PerfSystem& sys, const OpenFailure& f) {
    switch (f.err) {
        case EACCES:
        case EPERM:
            return permission_message(sys, f);
        case ENOENT:
        case EOPNOTSUPP:
        case ENODEV:
            if (f.kind == EventKind::kHardware)
                return "hardware event '" + f.event +
                       "' is not supported on this machine (no PMU, e.g. in a VM); use -e "
                       "cpu-clock";
            return "event " + where(f) + " is not supported by this kernel (" +
                   std::strerror(f.err) + "); try -e cpu-clock";
        case ESRCH:
            return "process " + std::to_string(f.pid) +
                   " does not exist (it may have exited); check the pid given to -p";
        case EMFILE:
        case ENFILE:
            return "too many open files while opening event " + where(f) +
                   " (one fd per event per CPU per thread): raise the limit with 'ulimit -n', "
                   "or record fewer events or threads";
        case EBUSY:
            return "event " + where(f) +
                   " is busy (another tool holds it exclusively); stop the other tool or use "
                   "-e cpu-clock";
        case EINVAL: {
            std::string msg = "the kernel rejected event " + where(f) + " (Invalid argument)";
            if (f.freq)
                msg += "; -F " + std::to_string(f.freq) +
                       " must not exceed /proc/sys/kernel/perf_event_max_sample_rate (" +
                       sysctl_value(sys, "perf_event_max_sample_rate") + ")";
            if (f.max_stack)
                msg += "; --max-stack " + std::to_string(f.max_stack) +
                       " must not exceed /proc/sys/kernel/perf_event_max_stack (" +
                       sysctl_value(sys, "perf_event_max_stack") + ")";
            return msg;
        }
        default:
            return "perf_event_open failed for event " + where(f) + ": " + std::strerror(f.err);
    }
}

std::string mmap_failure_message(PerfSystem& sys, int err, size_t data_pages, size_t page_size,
                                 uint32_t cpu) {
    return "could not map the ring buffer of CPU " + std::to_string(cpu) + " (" +
           std::to_string(data_pages) +
           " pages = " + std::to_string(data_pages * page_size / 1024) + " KiB; " +
           std::strerror(err) +
           "): use a smaller -m PAGES (a power of two, e.g. -m 16), or raise "
           "/proc/sys/kernel/perf_event_mlock_kb (now " +
           sysctl_value(sys, "perf_event_mlock_kb") + ")";
}

}  // namespace kprof::collector
