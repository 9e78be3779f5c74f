#include "analyzer/paths.hpp"

#include <algorithm>
#include <map>

namespace kprof {

std::vector<CallPath> hottest_paths(const AggregatedProfile& profile, FunctionId target,
                                    const PathOptions& options) {
    std::map<std::vector<FunctionId>, uint64_t> path_weights;
    std::vector<FunctionId> path;
    const size_t ev = profile.event_count();
    if (options.event >= ev) return {};
    const std::vector<uint64_t> weights = profile.shape_weights();
    for (uint32_t s = 0; s < profile.shape_count(); ++s) {
        const uint64_t w = weights[s * ev + options.event];
        if (w == 0) continue;
        const auto frames = profile.shape_frames(s);
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
        path_weights[path] += w;
    }
    std::vector<CallPath> out;
    out.reserve(path_weights.size());
    for (auto& [frames, w] : path_weights) out.push_back(CallPath{frames, w});
    std::stable_sort(out.begin(), out.end(),
                     [](const CallPath& a, const CallPath& b) { return a.weight > b.weight; });
    if (out.size() > options.limit) out.resize(options.limit);
    return out;
}

}  // namespace kprof
