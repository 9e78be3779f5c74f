// Hottest call paths to a function: how the time in dev_hard_start_xmit arrives from
// tcp_sendmsg versus icmp_reply.
#pragma once

#include <cstdint>
#include <vector>

#include "analyzer/aggregate.hpp"

namespace kprof {

struct CallPath {
    std::vector<FunctionId> frames;  // outermost first; the target last
    uint64_t weight = 0;
    auto operator<=>(const CallPath&) const = default;
};

struct PathOptions {
    size_t event = 0;
    // Start paths at the innermost call of this function above the target
    // (kNoFunction: at the stack's root); stacks without it are skipped.
    FunctionId from = kNoFunction;
    size_t limit = 20;  // at most this many paths, heaviest first
};

// Each stack through the target contributes once, along its path to the outermost
// occurrence of the target (so recursion in the target does not split paths).
std::vector<CallPath> hottest_paths(const AggregatedProfile& profile, FunctionId target,
                                    const PathOptions& options = {});

}  // namespace kprof
