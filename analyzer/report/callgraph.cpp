// --callgraph: gprof's call graph, functions and cycles with callers and callees.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

void write_callgraph(std::ostream& out, const CallGraph& g, const ReportOptions& o) {
    const AggregatedProfile& p = g.profile();
    out << report_header(p, o);
    if (o.event >= p.event_count()) return;
    const size_t ev = o.event;
    const uint64_t total = g.total_weight(ev);
    out << "#\n"
           "# gprof-style call graph built from sampled stacks. Each entry shows a function\n"
           "# with its callers above and its callees below. self: weight with the function\n"
           "# as leaf; children: the rest of its total. On arc lines, self/children are the\n"
           "# parts of the arc's weight, and arc/total is the arc weight over the total of\n"
           "# the function on the entry's line (callers) or of the callee (callees).\n"
           "# <spontaneous>: weight of stacks where the function is outermost.\n\n";

    // Entries: functions and cycles-as-a-whole, hottest total first; index from 1.
    struct Entry {
        FunctionId function = kNoFunction;
        int cycle = 0;
        uint64_t total = 0;
    };
    std::vector<Entry> entries;
    for (FunctionId f : g.by_total(ev)) entries.push_back({f, 0, g.total(f, ev)});
    for (const Cycle& c : g.cycles())
        if (g.cycle_total(c.number, ev) != 0)
            entries.push_back({kNoFunction, c.number, g.cycle_total(c.number, ev)});
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.total > b.total; });
    std::vector<size_t> index_of(g.function_count(), 0);
    std::vector<size_t> cycle_index(g.cycles().size() + 1, 0);
    for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].cycle)
            cycle_index[static_cast<size_t>(entries[i].cycle)] = i + 1;
        else
            index_of[entries[i].function] = i + 1;
    }
    auto ref = [&](FunctionId f) {
        return fmt::format("{} [{}]", function_label(g, f), index_of[f]);
    };
    const std::string rule(72, '-');
    out << fmt::format("{:<6} {:>6} {:>10} {:>10} {:>15}     {}\n", "index", "%total", "self",
                       "children", "arc/total", "name");
    auto arc_line = [&](ArcId a, FunctionId shown, uint64_t denominator, bool same_cycle) {
        const uint64_t w = g.arc_weight(a, ev), s = g.arc_self(a, ev);
        if (same_cycle)
            out << fmt::format("{:<6} {:>6} {:>10} {:>10} {:>15}         {}\n", "", "", "", "",
                               fmt::format("{}", w), ref(shown));
        else
            out << fmt::format("{:<6} {:>6} {:>10} {:>10} {:>15}         {}\n", "", "", s, w - s,
                               fmt::format("{}/{}", w, denominator), ref(shown));
    };
    for (size_t i = 0; i < entries.size(); ++i) {
        const Entry& e = entries[i];
        if (percent(e.total, total) < o.percent_limit) continue;
        const std::string idx = fmt::format("[{}]", i + 1);
        if (e.cycle) {
            const Cycle& c = g.cycles()[static_cast<size_t>(e.cycle - 1)];
            for (FunctionId m : c.members)
                for (const Arc& a : g.callers(m, ev))
                    if (g.cycle_of(a.caller) != e.cycle) arc_line(a.id, a.caller, e.total, false);
            const uint64_t self = g.cycle_self(e.cycle, ev);
            out << fmt::format("{:<6} {:6.1f} {:>10} {:>10} {:>15}     <cycle {} as a whole> {}\n",
                               idx, percent(e.total, total), self, e.total - self, e.total, e.cycle,
                               idx);
            for (FunctionId m : c.members) {
                const uint64_t ms = g.self(m, ev), mt = g.total(m, ev);
                out << fmt::format("{:<6} {:>6} {:>10} {:>10} {:>15}         {}\n", "", "", ms,
                                   mt - ms, fmt::format("{}/{}", mt, e.total), ref(m));
            }
            out << rule << "\n";
            continue;
        }
        const FunctionId f = e.function;
        const int cyc = g.cycle_of(f);
        const uint64_t fs = g.self(f, ev), ft = g.total(f, ev);
        if (const uint64_t root = g.root_weight(f, ev))
            out << fmt::format("{:<6} {:>6} {:>10} {:>10} {:>15}         <spontaneous>\n", "", "",
                               "", "", fmt::format("{}/{}", root, ft));
        for (const Arc& a : g.callers(f, ev))
            arc_line(a.id, a.caller, ft, cyc != 0 && g.cycle_of(a.caller) == cyc);
        std::string module = p.function(f).module;
        out << fmt::format("{:<6} {:6.1f} {:>10} {:>10} {:>15}     {}  ({})\n", idx,
                           percent(ft, total), fs, ft - fs, ft, ref(f), printable(module));
        for (const Arc& a : g.callees(f, ev))
            arc_line(a.id, a.callee, g.total(a.callee, ev),
                     cyc != 0 && g.cycle_of(a.callee) == cyc);
        out << rule << "\n";
    }

    // gprof's index by function name.
    out << "\nIndex by function name\n\n";
    std::vector<std::pair<std::string, size_t>> names;
    for (const Entry& e : entries) {
        if (e.cycle)
            names.emplace_back(fmt::format("<cycle {}>", e.cycle),
                               cycle_index[static_cast<size_t>(e.cycle)]);
        else
            names.emplace_back(function_label(g, e.function), index_of[e.function]);
    }
    std::sort(names.begin(), names.end());
    for (const auto& [name, idx] : names)
        out << fmt::format("{:>8} {}\n", fmt::format("[{}]", idx), name);
}

}  // namespace kprof
