// --flat: functions by self weight.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

void write_flat(std::ostream& out, const CallGraph& g, const ReportOptions& o) {
    const AggregatedProfile& p = g.profile();
    out << report_header(p, o);
    if (o.event >= p.event_count()) return;
    const uint64_t total = g.total_weight(o.event);
    out << fmt::format("#\n# {:>7} {:>7} {:>12} {:>12}  {}  {}\n", "self%", "total%", "self",
                       "total", "function", "module");
    for (FunctionId f : g.by_self(o.event)) {
        const uint64_t s = g.self(f, o.event), t = g.total(f, o.event);
        if (percent(s, total) < o.percent_limit && percent(t, total) < o.percent_limit) continue;
        out << fmt::format("  {:7.2f}% {:7.2f}% {:>12} {:>12}  {}  {}\n", percent(s, total),
                           percent(t, total), s, t, printable(p.function(f).name),
                           printable(p.function(f).module));
    }
}

}  // namespace kprof
