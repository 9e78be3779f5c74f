#include "tui/info_view.hpp"

#include <cstdio>
#include <ctime>

#include "tui/text.hpp"

namespace kprof::tui {
namespace {

Row field(std::string_view name, std::string value, Style style = Style::normal) {
    Row r;
    r.spans.push_back({"  " + fit(name, 22), Style::header});
    r.spans.push_back({std::move(value), style});
    return r;
}

Row heading(std::string text) {
    return Row{{{std::move(text), Style::header}}};
}

std::string wall_time(uint64_t ns) {
    if (ns == 0) return "unknown";
    const time_t t = static_cast<time_t>(ns / 1000000000ULL);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string seconds(uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
    return buf;
}

}  // namespace

std::vector<Row> InfoView::content(const Viewport&) const {
    const Profile& p = session_.profile();
    const TraceMeta& m = p.meta;
    std::vector<Row> out;
    out.push_back(heading("Trace"));
    out.push_back(field("file", escape(session_.trace_name())));
    out.push_back(field("format", escape(m.source_format.empty() ? "kprof" : m.source_format)));
    out.push_back(field("host", escape(m.hostname)));
    out.push_back(field("kernel", escape(m.kernel_release) + " " + escape(m.arch)));
    out.push_back(field("recorded by", escape(m.command_line)));
    out.push_back(field("target", escape(m.target)));
    out.push_back(field("started", wall_time(m.start_time_ns)));
    out.push_back(field("duration", seconds(m.duration_ns)));
    out.push_back(field("cpus", std::to_string(m.nr_cpus)));
    if (m.exit_status != 0)
        out.push_back(field("exit status",
                            m.exit_status > 0
                                ? std::to_string(m.exit_status)
                                : "killed by signal " + std::to_string(-m.exit_status),
                            Style::warning));
    if (m.interrupted) out.push_back(field("interrupted", "yes (SIGINT/SIGTERM)", Style::warning));
    if (m.kptr_restricted)
        out.push_back(field("kernel symbols", "hidden by kptr_restrict: kernel frames unresolved",
                            Style::warning));

    out.push_back(Row{});
    out.push_back(heading("Events"));
    for (size_t i = 0; i < p.events.size(); ++i) {
        const EventDesc& e = p.events[i];
        std::string rate = e.freq_or_period == 0 ? ""
                           : e.use_freq          ? ", " + std::to_string(e.freq_or_period) + " Hz"
                                                 : ", every " + std::to_string(e.freq_or_period);
        out.push_back(field(escape(e.name),
                            std::to_string(e.samples) + " samples" + rate +
                                (i == session_.event() ? "  (shown)" : ""),
                            i == session_.event() ? Style::match : Style::normal));
    }

    out.push_back(Row{});
    out.push_back(heading("Samples and losses"));
    out.push_back(field("samples", std::to_string(p.samples.size())));
    out.push_back(field("unique stacks", std::to_string(p.stacks.size())));
    uint64_t lost_records = 0, lost_samples = 0, throttles = 0;
    for (const CpuLoss& l : p.losses) {
        lost_records += l.lost_records;
        lost_samples += l.lost_samples;
        throttles += l.throttles;
    }
    const Style loss_style = lost_records + lost_samples > 0 ? Style::warning : Style::normal;
    out.push_back(field("lost records", std::to_string(lost_records), loss_style));
    out.push_back(field("lost samples", std::to_string(lost_samples), loss_style));
    out.push_back(field("throttled", std::to_string(throttles),
                        throttles > 0 ? Style::warning : Style::normal));
    for (const CpuLoss& l : p.losses)
        if (l.lost_records + l.lost_samples + l.throttles > 0)
            out.push_back(field("  cpu " + std::to_string(l.cpu),
                                std::to_string(l.lost_records) + " records, " +
                                    std::to_string(l.lost_samples) + " samples lost, " +
                                    std::to_string(l.throttles) + " throttles",
                                Style::warning));
    out.push_back(field("unresolved frames", std::to_string(p.unresolved_frames),
                        p.unresolved_frames > 0 ? Style::warning : Style::normal));

    out.push_back(Row{});
    out.push_back(heading("Symbols and processes"));
    out.push_back(field("kernel symbols", std::to_string(p.kernel_symbols.size())));
    out.push_back(field("binaries", std::to_string(p.dsos.size())));
    out.push_back(field("threads", std::to_string(p.threads.size())));

    out.push_back(Row{});
    out.push_back(heading("Filters"));
    out.push_back(field("event", session_.event_name()));
    const std::string filters = session_.filter_description();
    out.push_back(field("active", filters.empty() ? "none" : filters,
                        filters.empty() ? Style::normal : Style::match));
    return out;
}

}  // namespace kprof::tui
