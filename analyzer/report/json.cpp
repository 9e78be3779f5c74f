// --json: the whole call graph, every event.
#include "analyzer/report.hpp"

#include <nlohmann/json.hpp>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

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

}  // namespace kprof
