// --svg: a flame (or icicle) graph as a self-contained SVG.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "analyzer/flame.hpp"
#include "analyzer/report/common.hpp"
#include "analyzer/tree.hpp"

namespace kprof {
using namespace report_detail;

namespace {

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
