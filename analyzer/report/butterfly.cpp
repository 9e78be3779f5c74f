// --callers/--callees: pprof's peek at the functions given.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

void write_butterfly(std::ostream& out, const CallGraph& g,
                     const std::vector<FunctionId>& functions, bool show_callers, bool show_callees,
                     const ReportOptions& o) {
    const AggregatedProfile& p = g.profile();
    out << report_header(p, o);
    if (o.event >= p.event_count()) return;
    const size_t ev = o.event;
    const uint64_t total = g.total_weight(ev);
    bool any = false;
    for (FunctionId f : functions) {
        if (!g.present(f) || g.total(f, ev) == 0) continue;
        any = true;
        const uint64_t ft = g.total(f, ev), fs = g.self(f, ev);
        auto line = [&](uint64_t w, const std::string& name) {
            if (percent(w, ft) < o.percent_limit) return;
            out << fmt::format("  {:>12} {:7.2f}%    {}\n", w, percent(w, ft), name);
        };
        auto named = [&](FunctionId x) {
            return fmt::format("{}  ({})", function_label(g, x), printable(p.function(x).module));
        };
        out << "\n" << std::string(72, '=') << "\n";
        if (show_callers) {
            out << fmt::format(
                "  {:>12} {:>8}    callers (arc weight, % of the function's total)\n", "arc",
                "arc%");
            for (const Arc& a : g.callers(f, ev)) line(g.arc_weight(a.id, ev), named(a.caller));
            if (const uint64_t root = g.root_weight(f, ev)) line(root, "<spontaneous>");
        }
        out << fmt::format("  * {}: self {} ({:.2f}%), total {} ({:.2f}%)\n", named(f), fs,
                           percent(fs, total), ft, percent(ft, total));
        if (show_callees) {
            out << fmt::format(
                "  {:>12} {:>8}    callees (arc weight, % of the function's total)\n", "arc",
                "arc%");
            for (const Arc& a : g.callees(f, ev)) line(g.arc_weight(a.id, ev), named(a.callee));
            if (fs) line(fs, "<self>");
        }
    }
    if (!any) out << "\n  (no weight in this event)\n";
}

}  // namespace kprof
