#include "analyzer/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/graphviz.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "analyzer/flame.hpp"
#include "analyzer/tree.hpp"
#include "trace/text.hpp"

namespace kprof {
namespace {

// Names come from the traced system: never let control characters reach a terminal.
std::string printable(std::string_view s) {
    return escape_text(s);  // C0/C1 controls, DEL, bidi overrides and invalid UTF-8
}

double percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

const char* weight_unit(const AggregatedProfile& p) {
    return p.weight_kind() == WeightKind::samples ? "samples" : "period";
}

std::string function_label(const CallGraph& g, FunctionId f) {
    std::string name = printable(g.profile().function(f).name);
    if (int c = g.cycle_of(f)) name += fmt::format(" <cycle {}>", c);
    return name;
}

}  // namespace

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

void write_tree(std::ostream& out, const AggregatedProfile& p, const ReportOptions& o) {
    out << report_header(p, o);
    if (o.event >= p.event_count()) return;
    // Lazy: nodes under --percent-limit are never printed, so never built.
    LazyTree tree(p, o.event, o.inverted);
    const uint64_t total = p.total(o.event);
    out << (o.inverted
                ? "#\n# bottom-up call tree (callers below each function): total% name (module)\n"
                : "#\n# top-down call tree (callees below each function): total% self% name "
                  "(module)\n");
    // Iterative depth-first walk; prefix holds the tree drawing of the ancestors.
    struct Item {
        TreeNodeId node;
        std::string prefix;
        bool last;
    };
    std::vector<Item> stack;
    const std::vector<TreeNodeId> roots = tree.children(LazyTree::root());
    for (size_t i = roots.size(); i-- > 0;) stack.push_back({roots[i], "", true});
    while (!stack.empty()) {
        const Item it = stack.back();
        stack.pop_back();
        const TreeNode n = tree.node(it.node);  // a copy: children() below adds nodes
        if (percent(n.total, total) < o.percent_limit) continue;
        const Function& fn = p.function(n.function);
        const bool top = n.depth == 1;
        std::string mark;
        if (tree.crosses_boundary(it.node))
            mark = o.inverted ? "  [kernel<-user]" : "  [user->kernel]";
        const std::string self_column =
            o.inverted ? "        " : fmt::format("{:7.2f}%", percent(n.self, total));
        out << fmt::format("{:7.2f}% {}  {}{}{}  ({}){}\n", percent(n.total, total), self_column,
                           it.prefix, top ? "" : (it.last ? "`-- " : "|-- "), printable(fn.name),
                           printable(fn.module), mark);
        if (o.max_depth != 0 && n.depth >= o.max_depth) continue;
        const std::string child_prefix = top ? "" : it.prefix + (it.last ? "    " : "|   ");
        // Children drawn are those above the limit; the last of them gets "`--".
        std::vector<TreeNodeId> shown;
        for (TreeNodeId c : tree.children(it.node))
            if (percent(tree.node(c).total, total) >= o.percent_limit) shown.push_back(c);
        for (size_t i = shown.size(); i-- > 0;)
            stack.push_back({shown[i], child_prefix, i + 1 == shown.size()});
    }
}

void write_json(std::ostream& out, const CallGraph& g, const ReportOptions& o) {
    using Json = nlohmann::ordered_json;
    const AggregatedProfile& p = g.profile();
    const size_t ev = g.event_count();
    auto per_event = [ev](auto&& get) {
        Json a = Json::array();
        for (size_t e = 0; e < ev; ++e) a.push_back(get(e));
        return a;
    };
    Json j;
    j["kprof_report_version"] = 1;
    j["trace"] = o.trace_name;
    j["source_format"] = p.meta().source_format.empty() ? "kprof" : p.meta().source_format;
    j["target"] = p.meta().target;
    j["weight"] = weight_unit(p);
    j["filters"] = p.filters_text();
    Json events = Json::array();
    for (const EventTotal& e : p.events())
        events.push_back(Json{{"name", e.name},
                              {"samples", e.samples},
                              {"total", e.weight},
                              {"unattributed", e.unattributed}});
    j["events"] = events;
    j["lost_samples"] = p.lost_samples();
    j["unresolved_frames"] = p.unresolved_frames();
    Json nodes = Json::array();
    for (FunctionId f = 0; f < g.function_count(); ++f) {
        if (!g.present(f)) continue;
        const Function& fn = p.function(f);
        Json n{{"id", f},
               {"name", fn.name},
               {"module", fn.module},
               {"kernel", fn.kernel},
               {"self", per_event([&](size_t e) { return g.self(f, e); })},
               {"total", per_event([&](size_t e) { return g.total(f, e); })},
               {"root", per_event([&](size_t e) { return g.root_weight(f, e); })}};
        n["cycle"] = g.cycle_of(f) ? Json(g.cycle_of(f)) : Json(nullptr);
        nodes.push_back(std::move(n));
    }
    j["nodes"] = std::move(nodes);
    Json edges = Json::array();
    for (ArcId a = 0; a < g.arc_count(); ++a) {
        const Arc arc = g.arc(a);
        edges.push_back(Json{{"caller", arc.caller},
                             {"callee", arc.callee},
                             {"weight", per_event([&](size_t e) { return g.arc_weight(a, e); })},
                             {"self", per_event([&](size_t e) { return g.arc_self(a, e); })}});
    }
    j["edges"] = std::move(edges);
    Json cycles = Json::array();
    for (const Cycle& c : g.cycles())
        cycles.push_back(
            Json{{"number", c.number},
                 {"members", c.members},
                 {"self", per_event([&](size_t e) { return g.cycle_self(c.number, e); })},
                 {"total", per_event([&](size_t e) { return g.cycle_total(c.number, e); })}});
    j["cycles"] = std::move(cycles);
    // Readable and compact: the top level indented, one node, edge or cycle per line.
    // Invalid UTF-8 in symbol names is replaced rather than aborting the dump.
    const auto dump = [](const Json& v) {
        return v.dump(-1, ' ', true, Json::error_handler_t::replace);
    };
    out << "{\n";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
        out << (first ? "" : ",\n") << " " << dump(Json(it.key())) << ": ";
        first = false;
        if (!it.value().is_array() || it.value().empty() || it.key() == "events") {
            out << dump(it.value());
            continue;
        }
        out << "[\n";
        for (size_t i = 0; i < it.value().size(); ++i)
            out << "  " << dump(it.value()[i]) << (i + 1 < it.value().size() ? ",\n" : "\n");
        out << " ]";
    }
    out << "\n}\n";
}

std::string folded_frame_name(const Function& fn) {
    std::string func = fn.name;
    // `kprof script` prints the "[unknown kernel]" pseudo-symbol as "[unknown]", as perf
    // does, so stackcollapse-perf.pl sees "[unknown]" there too.
    if (func == "[unknown]" || func == "[unknown kernel]") {
        func = "[unknown]";
        if (!fn.module.empty() && fn.module != "[unknown]") {
            std::string base = fn.module;
            if (const size_t slash = base.rfind('/'); slash != std::string::npos)
                base = base.substr(slash + 1);
            func = "[" + base + "]";
        }
    }
    std::replace(func.begin(), func.end(), ';', ':');
    // Everything after the first "(" is argument noise, except in Go method names
    // ("pkg.(*T).M") and "(anonymous namespace)".
    static constexpr std::string_view kAnon = "anonymous namespace)";
    const size_t open = func.find('(');
    const size_t close = open == std::string::npos ? std::string::npos : func.find(')', open);
    const bool go_method = open != std::string::npos && open > 0 && func[open - 1] == '.' &&
                           close != std::string::npos && close + 1 < func.size() &&
                           func[close + 1] == '.';
    if (!go_method) {
        for (size_t pos = func.find('('); pos != std::string::npos; pos = func.find('(', pos + 1)) {
            if (std::string_view(func).substr(pos + 1, kAnon.size()) == kAnon) continue;
            func.erase(pos);
            break;
        }
    }
    std::erase_if(func, [](char c) { return c == '"' || c == '\''; });
    return func;
}

void write_folded(std::ostream& out, const AggregatedProfile& p, const ReportOptions& o) {
    if (o.event >= p.event_count()) return;
    std::vector<std::string> names(p.functions().size());
    std::vector<bool> skip(p.functions().size(), false);
    for (FunctionId f = 0; f < p.functions().size(); ++f) {
        const Function& fn = p.function(f);
        skip[f] = !fn.name.empty() && fn.name.front() == '(';  // like process-name frames
        names[f] = folded_frame_name(fn);
        if (o.annotate_kernel && fn.kernel) names[f] += "_[k]";
    }
    std::vector<std::string> comms;
    for (const std::string& c : p.comms()) {
        std::string s = c;
        std::replace(s.begin(), s.end(), ' ', '_');
        comms.push_back(std::move(s));
    }
    // Different stacks can fold to the same line (same names, other modules): sum them.
    // Hashed, then sorted once (lines come out in byte order of the raw stack); each line
    // remembers a stack it came from, to print it from names escaped once per function
    // instead of escaping every line (escaping the parts equals escaping the line: ';'
    // and ' ' end any multi-byte sequence).
    struct Line {
        uint64_t weight = 0;
        size_t stack = 0;
    };
    std::unordered_map<std::string, Line> lines;
    lines.reserve(p.stack_count());
    std::string key;
    for (size_t s = 0; s < p.stack_count(); ++s) {
        const uint64_t w = p.weight(s, o.event);
        if (w == 0) continue;
        key = comms[p.comm(s)];
        for (FunctionId f : p.frames(s)) {
            if (skip[f]) continue;
            key += ';';
            key += names[f];
        }
        auto [it, inserted] = lines.try_emplace(key, Line{0, s});
        it->second.weight += w;
    }
    std::vector<const std::pair<const std::string, Line>*> sorted;
    sorted.reserve(lines.size());
    for (const auto& line : lines) sorted.push_back(&line);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (std::string& n : names) n = printable(n);
    for (std::string& c : comms) c = printable(c);
    fmt::memory_buffer buf;
    for (const auto* line : sorted) {
        const size_t s = line->second.stack;
        buf.append(comms[p.comm(s)]);
        for (FunctionId f : p.frames(s)) {
            if (skip[f]) continue;
            buf.push_back(';');
            buf.append(names[f]);
        }
        fmt::format_to(std::back_inserter(buf), " {}\n", line->second.weight);
        if (buf.size() >= (size_t{1} << 20)) {
            out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
            buf.clear();
        }
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

namespace {

std::string dot_escape(std::string_view s) {
    std::string out;
    for (char c : printable(s)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : printable(s)) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

uint32_t name_hash(std::string_view s) {
    uint32_t h = 2166136261u;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
}

}  // namespace

void write_dot(std::ostream& out, const CallGraph& g, const ReportOptions& o) {
    const AggregatedProfile& p = g.profile();
    const size_t ev = std::min(o.event, g.event_count() ? g.event_count() - 1 : 0);
    const uint64_t total = g.event_count() ? g.total_weight(ev) : 0;
    const double node_min = o.node_fraction * static_cast<double>(total);
    const double edge_min = o.edge_fraction * static_cast<double>(total);
    auto keep_node = [&](FunctionId f) {
        return g.event_count() && g.present(f) && g.total(f, ev) != 0 &&
               static_cast<double>(g.total(f, ev)) >= node_min;
    };
    uint64_t max_self = 1;
    for (FunctionId f = 0; f < g.function_count(); ++f)
        if (keep_node(f)) max_self = std::max(max_self, g.self(f, ev));

    const CallGraphBase& graph = g.graph();
    using Edge = CallGraphBase::edge_descriptor;
    using Vertex = CallGraphBase::vertex_descriptor;
    std::function<bool(Edge)> edge_pred = [&](Edge e) {
        const ArcId a = graph[e].arc;
        return keep_node(static_cast<FunctionId>(boost::source(e, graph))) &&
               keep_node(static_cast<FunctionId>(boost::target(e, graph))) &&
               g.arc_weight(a, ev) != 0 && static_cast<double>(g.arc_weight(a, ev)) >= edge_min;
    };
    std::function<bool(Vertex)> vertex_pred = [&](Vertex v) {
        return keep_node(static_cast<FunctionId>(v));
    };
    boost::filtered_graph<CallGraphBase, std::function<bool(Edge)>, std::function<bool(Vertex)>>
        pruned(graph, edge_pred, vertex_pred);

    auto vertex_writer = [&](std::ostream& os, Vertex v) {
        const auto f = static_cast<FunctionId>(v);
        const Function& fn = p.function(f);
        const uint64_t s = g.self(f, ev), t = g.total(f, ev);
        const double heat =
            static_cast<double>(t) / static_cast<double>(std::max<uint64_t>(total, 1));
        // pprof-like: font grows with self, fill goes from pale to red with total.
        const double fontsize =
            8.0 + 24.0 * std::sqrt(static_cast<double>(s) / static_cast<double>(max_self));
        const int red = 255, green = static_cast<int>(235 - 200 * heat),
                  blue = static_cast<int>(220 - 200 * heat);
        std::string label = dot_escape(fn.name);
        if (int c = g.cycle_of(f)) label += fmt::format(" <cycle {}>", c);
        label += fmt::format("\\n{}\\nself {} ({:.2f}%)\\ntotal {} ({:.2f}%)",
                             dot_escape(fn.module), s, percent(s, total), t, percent(t, total));
        os << fmt::format(
            "[label=\"{}\", shape=box, style=\"{}\", fillcolor=\"#{:02x}{:02x}{:02x}\", "
            "color=\"{}\", fontsize={:.1f}, tooltip=\"{} ({})\"]",
            label, fn.kernel ? "filled" : "filled,rounded", red, std::clamp(green, 0, 255),
            std::clamp(blue, 0, 255), fn.kernel ? "#1f4e99" : "#8a5a00", fontsize,
            dot_escape(fn.name), fn.kernel ? "kernel" : "user");
    };
    auto edge_writer = [&](std::ostream& os, Edge e) {
        const ArcId a = graph[e].arc;
        const uint64_t w = g.arc_weight(a, ev);
        const double frac =
            static_cast<double>(w) / static_cast<double>(std::max<uint64_t>(total, 1));
        const bool boundary = p.function(static_cast<FunctionId>(boost::source(e, graph))).kernel !=
                              p.function(static_cast<FunctionId>(boost::target(e, graph))).kernel;
        os << fmt::format("[label=\"{}\", penwidth={:.2f}, weight={}{}]", w, 1.0 + 5.0 * frac,
                          1 + static_cast<int>(100 * frac), boundary ? ", style=dashed" : "");
    };
    auto graph_writer = [&](std::ostream& os) {
        std::string title = fmt::format(
            "{}\\nevent {}, weight {}, total {}, lost {}\\nfilters: {}", dot_escape(o.trace_name),
            g.event_count() ? dot_escape(p.events()[ev].name) : "none", weight_unit(p), total,
            p.lost_samples(), dot_escape(p.filters_text()));
        os << fmt::format("label=\"{}\";\nlabelloc=t;\nnode [fontname=\"Helvetica\"];\n", title);
    };
    boost::write_graphviz(out, pruned, vertex_writer, edge_writer, graph_writer);
}

void write_svg(std::ostream& out, const AggregatedProfile& p, const ReportOptions& o) {
    const int width = std::max(200, o.svg_width);
    const double pad = 10, frame_h = 16, top = 50, bottom = 20;
    const double usable = width - 2 * pad;
    std::string event_name = o.event < p.event_count() ? p.events()[o.event].name : "none";
    FlameLayout layout;
    std::optional<LazyTree> tree;  // only frames wide enough to draw are built
    if (o.event < p.event_count()) {
        tree.emplace(p, o.event, false);
        const uint64_t total = tree->node(LazyTree::root()).total;
        // Frames under 0.1 pixel cannot be seen or hovered.
        const uint64_t min_width =
            total == 0
                ? 0
                : static_cast<uint64_t>(std::ceil(static_cast<double>(total) * 0.1 / usable));
        layout = flame_layout(*tree, min_width);
    }
    const uint64_t total = layout.total;
    const double height = top + bottom + (layout.max_depth + 1) * frame_h;
    out << "<?xml version=\"1.0\" standalone=\"no\"?>\n";
    out << fmt::format(
        "<svg version=\"1.1\" width=\"{}\" height=\"{:.0f}\" viewBox=\"0 0 {} {:.0f}\" "
        "xmlns=\"http://www.w3.org/2000/svg\">\n",
        width, height, width, height);
    out << "<style>text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
           " rect:hover { stroke: #000; stroke-width: 0.5; }\n"
           " .title { font-size: 17px; } .sub { font-size: 11px; fill: #444; }</style>\n";
    out << fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{:.0f}\" fill=\"#f8f8f2\"/>\n",
                       width, height);
    out << fmt::format(
        "<text class=\"title\" x=\"{:.1f}\" y=\"22\" text-anchor=\"middle\">{} {}</text>\n",
        width / 2.0, o.inverted ? "Icicle graph" : "Flame graph", xml_escape(o.trace_name));
    out << fmt::format(
        "<text class=\"sub\" x=\"{:.1f}\" y=\"40\" text-anchor=\"middle\">event {}, weight {}, "
        "total {}, lost samples {}, filters: {}; kernel frames blue, user frames warm</text>\n",
        width / 2.0, xml_escape(event_name), weight_unit(p), total, p.lost_samples(),
        xml_escape(p.filters_text()));
    const char* unit = weight_unit(p);
    for (const FlameFrame& fr : layout.frames) {
        const double x = pad + usable * static_cast<double>(fr.x) /
                                   static_cast<double>(std::max<uint64_t>(total, 1));
        const double w = usable * static_cast<double>(fr.width) /
                         static_cast<double>(std::max<uint64_t>(total, 1));
        const double y =
            o.inverted ? top + fr.depth * frame_h : height - bottom - (fr.depth + 1) * frame_h;
        std::string name = fr.function == kNoFunction ? "all" : p.function(fr.function).name;
        std::string module = fr.function == kNoFunction ? "" : p.function(fr.function).module;
        const uint32_t h = name_hash(name);
        std::string fill;
        if (fr.function == kNoFunction)
            fill = "rgb(200,200,200)";
        else if (fr.kernel)  // cool blues for the kernel
            fill = fmt::format("rgb({},{},{})", 60 + h % 60, 140 + (h >> 8) % 70,
                               210 + (h >> 16) % 45);
        else  // flamegraph.pl's warm palette for user space
            fill = fmt::format("rgb({},{},{})", 205 + h % 50, (h >> 8) % 230, (h >> 16) % 55);
        std::string title =
            fmt::format("{}{}{}\n{} {} ({:.2f}%), self {} ({:.2f}%)", name,
                        module.empty() ? "" : " ", module.empty() ? "" : "(" + module + ")",
                        fr.width, unit, percent(fr.width, total), fr.self, percent(fr.self, total));
        out << fmt::format(
            "<g><title>{}</title><rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" "
            "height=\"{:.1f}\" fill=\"{}\" rx=\"2\" ry=\"2\"/>",
            xml_escape(title), x, y, w, frame_h - 1, fill);
        // About 7 pixels per character at 12px; names that do not fit end in "..".
        const auto fit = static_cast<size_t>(std::max(0.0, (w - 6) / 7));
        if (fit >= 3) {
            std::string text = name.size() <= fit ? name : name.substr(0, fit - 2) + "..";
            out << fmt::format("<text x=\"{:.2f}\" y=\"{:.1f}\">{}</text>", x + 3, y + 11.5,
                               xml_escape(text));
        }
        out << "</g>\n";
    }
    out << "</svg>\n";
}

}  // namespace kprof
