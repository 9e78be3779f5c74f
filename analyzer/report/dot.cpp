// --dot: the pruned call graph for Graphviz.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/graphviz.hpp>
#include <cmath>
#include <functional>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

namespace {

std::string dot_escape(std::string_view s) {
    std::string out;
    for (char c : printable(s)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
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

}  // namespace kprof
