// What the report writers share (internal to analyzer/report/; callers include
// analyzer/report.hpp). Each output format is one file in this folder.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"
#include "trace/text.hpp"

namespace kprof::report_detail {

// Names come from the traced system: never let control characters reach a terminal.
inline std::string printable(std::string_view s) {
    return escape_text(s);  // C0/C1 controls, DEL, bidi overrides and invalid UTF-8
}

inline double percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

inline const char* weight_unit(const AggregatedProfile& p) {
    return p.weight_kind() == WeightKind::samples ? "samples" : "period";
}

inline std::string function_label(const CallGraph& g, FunctionId f) {
    std::string name = printable(g.profile().function(f).name);
    if (int c = g.cycle_of(f)) name += fmt::format(" <cycle {}>", c);
    return name;
}

}  // namespace kprof::report_detail
