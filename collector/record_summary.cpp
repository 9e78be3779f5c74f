// The end-of-recording report `kprof record` prints (samples per event, losses, the
// collector's own CPU time, trace size, target exit statuses), and the CPU-time clock
// it is measured with.
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "collector/recorder.hpp"
#include "trace/text.hpp"

namespace kprof::collector {

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
    if (s.dwarf) out += "  " + describe_unwinding(s.unwind, s.user_stack_size) + "\n";
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

}  // namespace kprof::collector
