// Shared helpers of the analyzer tests: profiles from folded-stack text, lookups by name.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "analyzer/aggregate.hpp"
#include "analyzer/call_graph.hpp"
#include "import/imports.hpp"

namespace kprof::testing {

struct Analyzed {
    Profile profile;
    AggregatedProfile agg;
    std::unique_ptr<CallGraph> graph;

    FunctionId id(const std::string& name) const {
        const FunctionId f = agg.find_function(name);
        EXPECT_NE(f, kNoFunction) << name << " is not a function of the profile";
        return f;
    }
    uint64_t self(const std::string& name) const { return graph->self(id(name), 0); }
    uint64_t total(const std::string& name) const { return graph->total(id(name), 0); }
    // Arc weight caller->callee of event 0; 0 when there is no such arc.
    uint64_t arc(const std::string& caller, const std::string& callee) const {
        const FunctionId from = id(caller), to = id(callee);
        for (const Arc& a : graph->callees(from, 0))
            if (a.callee == to) return graph->arc_weight(a.id, 0);
        return 0;
    }
};

inline std::unique_ptr<Analyzed> analyze_folded(const std::string& text,
                                                const AggregateOptions& options = {}) {
    auto a = std::make_unique<Analyzed>();
    a->profile = import_folded_text(text);
    a->agg = aggregate(a->profile, options);
    a->graph = std::make_unique<CallGraph>(a->agg);
    return a;
}

}  // namespace kprof::testing
