// `kprof report` outputs. Each writer takes the analyzed data and an options struct and
// writes one format; none of them reads the trace or the terminal. Each format is one
// file in analyzer/report/ (flat.cpp, callgraph.cpp, ...), sharing report/common.hpp: a
// new format adds its file there and its writer here.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"

namespace kprof {

struct ReportOptions {
    std::string trace_name{};      // shown in headers
    size_t event = 0;              // event index of the aggregated profile
    double percent_limit = 0;      // rows under this % of the total are omitted
    bool inverted = false;         // --tree: bottom-up; --svg: icicle
    double node_fraction = 0.005;  // --dot: drop nodes whose total is under this fraction
    double edge_fraction = 0.001;  // --dot: drop arcs under this fraction
    bool annotate_kernel = false;  // --folded: append "_[k]" to kernel frames
    size_t max_depth = 0;          // --tree: 0 = unlimited
    int svg_width = 1200;
};

// The lines every text report starts with ("# trace: ... event: ... total: ... lost: ...").
std::string report_header(const AggregatedProfile& profile, const ReportOptions& options,
                          const std::string& comment = "# ");

void write_flat(std::ostream& out, const CallGraph& graph, const ReportOptions& options);
void write_callgraph(std::ostream& out, const CallGraph& graph, const ReportOptions& options);
// pprof peek: for each function, its callers (if show_callers) and callees (if show_callees).
void write_butterfly(std::ostream& out, const CallGraph& graph,
                     const std::vector<FunctionId>& functions, bool show_callers, bool show_callees,
                     const ReportOptions& options);
void write_tree(std::ostream& out, const AggregatedProfile& profile, const ReportOptions& options);
// Every event; schema in man/kprof-report.1 (JSON OUTPUT).
void write_json(std::ostream& out, const CallGraph& graph, const ReportOptions& options);
// "comm;root;...;leaf weight", sorted byte-wise like stackcollapse-perf.pl.
void write_folded(std::ostream& out, const AggregatedProfile& profile,
                  const ReportOptions& options);
void write_dot(std::ostream& out, const CallGraph& graph, const ReportOptions& options);
void write_svg(std::ostream& out, const AggregatedProfile& profile, const ReportOptions& options);

// A frame name as stackcollapse-perf.pl prints it ("[unknown]" in a known module becomes
// "[module]", ";" becomes ":", arguments after "(" and quotes are dropped).
std::string folded_frame_name(const Function& function);

}  // namespace kprof
