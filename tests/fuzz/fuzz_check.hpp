// What every parser's output must satisfy, whatever the input bytes were: the ids the
// analysis layers index with are in range (an out-of-range id there is an out-of-bounds
// read, not an error message), and every frame of every stack resolves without failing.
// A violation aborts, so libFuzzer and the corpus replay report it as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "symbols/resolve.hpp"
#include "trace/error.hpp"
#include "trace/profile.hpp"

namespace kprof::fuzz {

[[noreturn]] inline void violated(const char* what) {
    std::fprintf(stderr, "fuzz: parser output breaks an invariant: %s\n", what);
    std::abort();
}

inline void check_profile(const Profile& p) {
    const auto& entries = p.stacks.entries();
    for (const StackEntry& e : entries) {
        if (e.depth > kMaxStackDepth) violated("stack deeper than kMaxStackDepth");
        if (e.kernel_depth > e.depth) violated("stack kernel_depth > depth");
        if (e.offset > p.stacks.ips().size() || e.depth > p.stacks.ips().size() - e.offset)
            violated("stack ips outside the table");
    }
    for (const Sample& s : p.samples) {
        if (s.stack >= entries.size()) violated("sample stack id out of range");
        if (s.event >= p.events.size()) violated("sample event id out of range");
    }
    for (const Mapping& m : p.mappings)
        if (m.dso != kNoDso && m.dso >= p.dsos.size()) violated("mapping dso id out of range");

    // The resolver is what every report runs over a parsed profile.
    try {
        const FrameResolver resolver(p);
        std::vector<Location> out;
        for (size_t id = 0; id < entries.size(); ++id) {
            const StackView v = p.stacks.get(static_cast<StackId>(id));
            for (size_t i = 0; i < v.ips.size(); ++i) {
                out.clear();
                resolver.resolve(v, i, out);
            }
        }
    } catch (const Error&) {
        // A resolver may refuse a profile with a message; that is not a crash.
    }
}

}  // namespace kprof::fuzz
