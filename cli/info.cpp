// kprof info: what a trace holds, and what it lost.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "symbols/kallsyms.hpp"
#include "trace/text.hpp"

namespace kprof::cli {
namespace {

std::string utc_time(uint64_t ns) {
    if (ns == 0) return "unknown";
    const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000ULL);
    std::tm tm{};
    if (!gmtime_r(&secs, &tm)) return "unknown";
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string exit_status(int32_t status) {
    if (status < 0) return fmt::format("killed by signal {}", -status);
    return fmt::format("exit status {}", status);
}

std::string sampling(const EventDesc& e) {
    if (e.freq_or_period == 0) return "-";
    return e.use_freq ? fmt::format("{} Hz", e.freq_or_period)
                      : fmt::format("period {}", e.freq_or_period);
}

void print_info(const OpenedTrace& t) {
    const Profile& p = t.profile;
    const TraceMeta& m = p.meta;
    auto line = [](std::string_view key, const std::string& value) {
        fmt::print("{:<24}{}\n", std::string(key) + ":", value);
    };
    std::string state = format_name(t.format);
    if (t.format == FileFormat::kprof)
        state += t.report.finalized ? ", finalized" : ", NOT finalized (recovered)";
    line("file", escape_text(t.path) + " (" + state + ")");
    if (!t.report.finalized && !t.report.note.empty()) line("recovery", escape_text(t.report.note));
    if (!m.source_format.empty() && m.source_format != "kprof")
        line("imported from", escape_text(m.source_format));
    line("recorded", utc_time(m.start_time_ns));
    if (!m.hostname.empty()) line("host", escape_text(m.hostname));
    if (!m.kernel_release.empty() || !m.arch.empty())
        line("kernel", escape_text(m.kernel_release) +
                           (m.arch.empty() ? "" : " (" + escape_text(m.arch) + ")"));
    if (m.nr_cpus) line("cpus", std::to_string(m.nr_cpus));
    if (!m.command_line.empty()) line("command line", escape_text(m.command_line));
    if (!m.target.empty())
        line("target", escape_text(m.target) +
                           (m.exit_status != 0 ? " (" + exit_status(m.exit_status) + ")" : ""));
    if (m.interrupted) line("stopped", "interrupted by a signal (SIGINT/SIGTERM)");
    line("duration", fmt::format("{:.3f} s", static_cast<double>(m.duration_ns) / 1e9));
    if (!m.kprof_version.empty()) line("kprof version", escape_text(m.kprof_version));
    if (m.collector_cpu_seconds > 0)
        line("collector cpu time",
             fmt::format("{:.3f} s{}", m.collector_cpu_seconds,
                         p.samples.empty()
                             ? std::string()
                             : fmt::format(" ({:.2f} us per sample)",
                                           m.collector_cpu_seconds * 1e6 /
                                               static_cast<double>(p.samples.size()))));

    // Events, with the samples the trace really holds (not what the recorder claimed).
    std::vector<uint64_t> counts(p.events.size()), periods(p.events.size());
    uint64_t stray = 0;
    for (const Sample& s : p.samples) {
        if (s.event < counts.size()) {
            ++counts[s.event];
            periods[s.event] += s.period;
        } else {
            ++stray;
        }
    }
    fmt::print("\nevents:\n");
    fmt::print("  {:<32} {:>14} {:>12} {:>20}\n", "event", "sampling", "samples", "total period");
    for (size_t i = 0; i < p.events.size(); ++i)
        fmt::print("  {:<32} {:>14} {:>12} {:>20}\n", escape_text(p.events[i].name),
                   sampling(p.events[i]), counts[i], periods[i]);
    fmt::print("  {:<32} {:>14} {:>12}\n", "total", "", p.samples.size());
    if (stray) fmt::print("  ({} samples name an event the trace does not describe)\n", stray);
    // Losses: never silent.
    CpuLoss total;
    for (const CpuLoss& l : p.losses) {
        total.lost_records += l.lost_records;
        total.lost_samples += l.lost_samples;
        total.throttles += l.throttles;
        total.unthrottles += l.unthrottles;
    }
    fmt::print("\nlost and throttled:\n");
    fmt::print("  {:<6} {:>14} {:>14} {:>12} {:>12}\n", "cpu", "lost records", "lost samples",
               "throttles", "unthrottles");
    std::vector<CpuLoss> losses = p.losses;
    std::sort(losses.begin(), losses.end(),
              [](const CpuLoss& a, const CpuLoss& b) { return a.cpu < b.cpu; });
    for (const CpuLoss& l : losses)
        if (l.lost_records || l.lost_samples || l.throttles || l.unthrottles)
            fmt::print("  {:<6} {:>14} {:>14} {:>12} {:>12}\n", l.cpu, l.lost_records,
                       l.lost_samples, l.throttles, l.unthrottles);
    fmt::print("  {:<6} {:>14} {:>14} {:>12} {:>12}\n", "total", total.lost_records,
               total.lost_samples, total.throttles, total.unthrottles);

    // Stacks.
    size_t kernel_only = 0, max_depth = 0, kernel_frames = 0, user_frames = 0;
    for (StackId id = 0; id < p.stacks.size(); ++id) {
        const StackView v = p.stacks.get(id);
        if (v.kernel_depth == v.ips.size()) ++kernel_only;
        max_depth = std::max(max_depth, v.ips.size());
        kernel_frames += v.kernel_depth;
        user_frames += v.ips.size() - v.kernel_depth;
    }
    fmt::print("\n");
    const double mean = p.stacks.size() ? static_cast<double>(kernel_frames + user_frames) /
                                              static_cast<double>(p.stacks.size())
                                        : 0.0;
    line("unique stacks", fmt::format("{} ({} kernel-only; depth max {}, mean {:.1f})",
                                      p.stacks.size(), kernel_only, max_depth, mean));
    std::set<uint32_t> pids;
    for (const Thread& th : p.threads) pids.insert(th.pid);
    line("threads", fmt::format("{} in {} processes", p.threads.size(), pids.size()));
    size_t symbolized = 0, deleted = 0;
    for (const Dso& d : p.dsos) {
        symbolized += d.symbolized;
        deleted += d.deleted;
    }
    line("dsos", fmt::format("{} ({} symbolized{})", p.dsos.size(), symbolized,
                             deleted ? fmt::format(", {} deleted or replaced", deleted) : ""));
    constexpr size_t kMaxDsosListed = 20;
    for (size_t i = 0; i < p.dsos.size() && i < kMaxDsosListed; ++i) {
        const Dso& d = p.dsos[i];
        fmt::print("  {}{}{}\n", escape_text(d.path),
                   d.symbolized ? fmt::format(" ({} symbols hit)", d.symbols.size())
                                : std::string(" (not symbolized)"),
                   d.build_id.empty() ? "" : " build-id " + escape_text(d.build_id));
    }
    if (p.dsos.size() > kMaxDsosListed)
        fmt::print("  ... and {} more\n", p.dsos.size() - kMaxDsosListed);
    line("mappings", std::to_string(p.mappings.size()));
    line("unresolved user frames", std::to_string(p.unresolved_frames));
    line("kernel symbols", fmt::format("{} in the trace's snapshot", p.kernel_symbols.size()));
    if (m.kptr_restricted || kallsyms_restricted(p.kernel_symbols))
        fmt::print(
            "warning: kernel addresses were hidden (kptr_restrict) when this trace was "
            "recorded: kernel frames show as [unknown kernel]. Record as root, or with "
            "kernel.kptr_restrict=0, or pass a kallsyms copy with --kallsyms to script and "
            "report.\n");
    else if (p.kernel_symbols.empty() && kernel_frames > 0)
        fmt::print(
            "warning: the trace has kernel frames but no kernel symbols; pass --kallsyms to "
            "script and report.\n");
}

}  // namespace

int cmd_info(int argc, char** argv) {
    CLI::App cli{
        "Show what a trace holds: metadata, events with sample counts, lost and "
        "throttled records per CPU, unique stacks, threads, dsos.",
        "kprof info"};
    TraceOptions options;
    add_trace_file_options(cli, options);
    if (const auto done = parse_command_line(cli, argc, argv)) return *done;
    print_info(open_trace(options));
    return 0;
}

}  // namespace kprof::cli
