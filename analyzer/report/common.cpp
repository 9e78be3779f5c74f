// report_header: the lines every text report starts with.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

std::string report_header(const AggregatedProfile& profile, const ReportOptions& options,
                          const std::string& comment) {
    std::string out;
    const TraceMeta& m = profile.meta();
    std::string source = m.source_format.empty() ? "kprof" : m.source_format;
    if (!m.target.empty()) source += ", " + m.target;
    out += fmt::format("{}trace: {} ({})\n", comment, printable(options.trace_name),
                       printable(source));
    if (options.event < profile.event_count()) {
        const EventTotal& e = profile.events()[options.event];
        std::string all;
        if (profile.event_count() > 1)
            for (const EventTotal& o : profile.events())
                all += (all.empty() ? " (of " : ", ") + printable(o.name);
        if (!all.empty()) all += ")";
        out += fmt::format("{}event: {}{}\n", comment, printable(e.name), all);
        out += fmt::format("{}weight: {}; total {} in {} samples", comment, weight_unit(profile),
                           e.weight, e.samples);
        if (e.unattributed) out += fmt::format(" ({} without frames)", e.unattributed);
        out += "\n";
    } else {
        out += fmt::format("{}event: none (no samples)\n", comment);
    }
    out += fmt::format("{}lost samples: {}; unresolved frames: {}\n", comment,
                       profile.lost_samples(), profile.unresolved_frames());
    out += fmt::format("{}filters: {}\n", comment, printable(profile.filters_text()));
    return out;
}

}  // namespace kprof
