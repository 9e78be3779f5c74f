#include "analyzer/stack_filter.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "trace/error.hpp"

namespace kprof {

std::regex compile_regex(const std::string& re, const char* option) {
    try {
        return std::regex(re, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
        throw Error(
            fmt::format("{} '{}': not a valid regular expression ({})", option, re, e.what()));
    }
}

StackFilter::StackFilter(const FilterOptions& filters)
    : kernel_only_(filters.kernel_only), user_only_(filters.user_only) {
    if (!filters.focus.empty()) focus_ = compile_regex(filters.focus, "--focus");
    if (!filters.ignore.empty()) ignore_ = compile_regex(filters.ignore, "--ignore");
    if (!filters.hide.empty()) hide_ = compile_regex(filters.hide, "--hide");
}

bool StackFilter::matches(FunctionId f, int8_t Match::*field, const std::regex& re,
                          const std::vector<Function>& functions) {
    if (matches_.size() <= f) matches_.resize(functions.size());
    int8_t& m = matches_[f].*field;
    if (m < 0) m = std::regex_search(functions[f].name, re) ? 1 : 0;
    return m == 1;
}

bool StackFilter::apply(std::vector<FunctionId>& frames, const std::vector<Function>& functions) {
    if (kernel_only_ || user_only_) {
        std::erase_if(frames, [&](FunctionId f) { return functions[f].kernel != kernel_only_; });
        if (frames.empty()) return false;
    }
    if (focus_ && std::none_of(frames.begin(), frames.end(), [&](FunctionId f) {
            return matches(f, &Match::focus, *focus_, functions);
        }))
        return false;
    if (ignore_ && std::any_of(frames.begin(), frames.end(), [&](FunctionId f) {
            return matches(f, &Match::ignore, *ignore_, functions);
        }))
        return false;
    if (hide_)
        std::erase_if(frames,
                      [&](FunctionId f) { return matches(f, &Match::hide, *hide_, functions); });
    return true;
}

}  // namespace kprof
