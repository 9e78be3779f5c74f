// FilterOptions' frame filters, applied to a resolved stack: keep kernel or user frames
// only (dropping stacks left without any), keep stacks through --focus, drop stacks
// through --ignore, remove --hide frames. Sample filters, which need no frames, are
// SampleFilter's (sample_filter.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "analyzer/aggregate.hpp"
#include "analyzer/filters.hpp"

namespace kprof {

// An ECMAScript regex; throws Error "OPTION 'RE': not a valid regular expression (...)".
std::regex compile_regex(const std::string& re, const char* option);

class StackFilter {
  public:
    // Throws Error for a pattern that is not an ECMAScript regex.
    explicit StackFilter(const FilterOptions& filters);

    // Filters `frames` (function ids into `functions`) in place; false when the stack is
    // dropped. A stack whose frames are all hidden is kept, empty: its weight stays in
    // the total, unattributed. Each function is matched once per pattern and remembered:
    // `functions` may only grow between calls.
    bool apply(std::vector<FunctionId>& frames, const std::vector<Function>& functions);

  private:
    bool kernel_only_ = false, user_only_ = false;
    std::optional<std::regex> focus_, ignore_, hide_;
    // Per function: has each pattern matched it (1), not (0), not asked yet (-1)?
    struct Match {
        int8_t focus = -1, ignore = -1, hide = -1;
    };
    std::vector<Match> matches_;

    bool matches(FunctionId f, int8_t Match::*field, const std::regex& re,
                 const std::vector<Function>& functions);
};

}  // namespace kprof
