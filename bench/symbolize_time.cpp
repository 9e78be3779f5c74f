// Times record-time user-space symbolization on a recorded trace: reads it, forgets the
// user symbols it carries, and runs symbolize_profile again (the binaries must still be
// where the recording found them). Used by bench/symbolize_bench.sh.
//
//   symbolize_time TRACE [RUNS]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "symbols/symbolize.hpp"
#include "trace/format.hpp"

namespace {

void forget_user_symbols(kprof::Profile& profile) {
    for (kprof::Dso& dso : profile.dsos) {
        dso.symbols.clear();
        dso.sources.clear();
        dso.symbolized = false;
        dso.deleted = false;
    }
    profile.unresolved_frames = 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: symbolize_time TRACE [RUNS]\n");
        return 2;
    }
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    try {
        const kprof::Profile recorded = kprof::read_trace(argv[1]);
        uint64_t user_frames = 0, user_stacks = 0;
        for (kprof::StackId id = 0; id < recorded.stacks.size(); ++id) {
            const auto s = recorded.stacks.get(id);
            user_frames += s.user_ips().size();
            user_stacks += s.user_ips().empty() ? 0 : 1;
        }
        std::printf("trace            %s\n", argv[1]);
        std::printf("samples          %zu\n", recorded.samples.size());
        std::printf("stacks           %zu (%llu with user frames, %llu user frames)\n",
                    recorded.stacks.size(), static_cast<unsigned long long>(user_stacks),
                    static_cast<unsigned long long>(user_frames));
        for (const bool dwarf : {false, true}) {
            std::vector<double> seconds;
            kprof::SymbolizeStats stats;
            kprof::Profile profile;
            for (int i = 0; i < runs; ++i) {
                profile = recorded;
                forget_user_symbols(profile);
                kprof::SymbolizeOptions options;
                options.debug_info = dwarf;
                stats = kprof::symbolize_profile(profile, options);
                seconds.push_back(stats.seconds);
            }
            uint64_t symbols = 0, sources = 0;
            for (const kprof::Dso& d : profile.dsos) {
                symbols += d.symbols.size();
                sources += d.sources.size();
            }
            std::printf(
                "%-16s median %.3f ms of %d runs: %llu unique addresses (%llu resolved, "
                "%llu unresolved), %llu binaries, %llu symbols, %llu source entries, "
                "%llu unresolved frames\n",
                dwarf ? "symbols+dwarf" : "symbols only", median(seconds) * 1e3, runs,
                static_cast<unsigned long long>(stats.addresses),
                static_cast<unsigned long long>(stats.resolved),
                static_cast<unsigned long long>(stats.unresolved),
                static_cast<unsigned long long>(stats.binaries),
                static_cast<unsigned long long>(symbols), static_cast<unsigned long long>(sources),
                static_cast<unsigned long long>(profile.unresolved_frames));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "symbolize_time: %s\n", e.what());
        return 1;
    }
    return 0;
}
