#include "analyzer/paths.hpp"

#include <algorithm>
#include <map>

namespace kprof {

std::vector<CallPath> hottest_paths(const AggregatedProfile& profile, FunctionId target,
                                    const PathOptions& options) {
    std::map<std::vector<FunctionId>, uint64_t> weights;
    std::vector<FunctionId> path;
    for (size_t s = 0; s < profile.stack_count() && options.event < profile.event_count(); ++s) {
        const uint64_t w = profile.weight(s, options.event);
        if (w == 0) continue;
        const auto frames = profile.frames(s);
        const auto end = std::find(frames.begin(), frames.end(), target);
        if (end == frames.end()) continue;
        auto begin = frames.begin();
        if (options.from != kNoFunction) {
            // The innermost call of `from` above the target.
            auto rit = std::find(std::make_reverse_iterator(end), frames.rend(), options.from);
            if (rit == frames.rend()) continue;
            begin = std::prev(rit.base());
        }
        path.assign(begin, end + 1);
        weights[path] += w;
    }
    std::vector<CallPath> out;
    out.reserve(weights.size());
    for (auto& [frames, w] : weights) out.push_back(CallPath{frames, w});
    std::stable_sort(out.begin(), out.end(),
                     [](const CallPath& a, const CallPath& b) { return a.weight > b.weight; });
    if (out.size() > options.limit) out.resize(options.limit);
    return out;
}

}  // namespace kprof
