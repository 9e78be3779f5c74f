// Writes a synthetic kprof trace for the report benchmark (bench/report_scale.sh):
// N samples spread, with a skew, over S unique stacks of depth 1..D, walked through a
// made-up call graph of user and kernel functions so stacks share prefixes like real ones.
//
//   gen_synthetic OUT [--samples 10000000] [--stacks 100000] [--depth 60] [--seed 1]
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "trace/error.hpp"
#include "trace/format.hpp"
#include "trace/profile.hpp"

namespace {

struct Options {
    std::string out;
    uint64_t samples = 10'000'000;
    uint64_t stacks = 100'000;
    uint32_t depth = 60;
    uint64_t seed = 1;
};

constexpr uint32_t kUserFunctions = 4'000;
constexpr uint32_t kKernelFunctions = 16'000;
constexpr uint32_t kCalleesPerFunction = 6;
constexpr uint64_t kUserBase = 0x400000;
constexpr uint64_t kKernelBase = 0xffffffff81000000ULL;
constexpr uint64_t kSymbolSize = 64;
constexpr uint32_t kPid = 4242;

Options parse(int argc, char** argv) {
    Options o;
    if (argc < 2) {
        std::fprintf(
            stderr, "usage: gen_synthetic OUT [--samples N] [--stacks N] [--depth N] [--seed N]\n");
        std::exit(2);
    }
    o.out = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
        if (k == "--samples")
            o.samples = v;
        else if (k == "--stacks")
            o.stacks = v;
        else if (k == "--depth")
            o.depth = static_cast<uint32_t>(v);
        else if (k == "--seed")
            o.seed = v;
        else {
            std::fprintf(stderr, "gen_synthetic: unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    if (o.stacks == 0 || o.depth == 0 || o.depth > kprof::kMaxStackDepth) {
        std::fprintf(stderr, "gen_synthetic: --stacks and --depth must be positive\n");
        std::exit(2);
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::mt19937_64 rng(o.seed);
    kprof::Profile p;
    p.meta.source_format = "kprof";
    p.meta.target = fmt::format("synthetic {} samples over {} stacks", o.samples, o.stacks);
    p.meta.kprof_version = "bench";
    p.meta.nr_cpus = 2;
    p.events.push_back(kprof::EventDesc{.name = "cpu-clock",
                                        .type = 1,
                                        .config = 0,
                                        .use_freq = true,
                                        .freq_or_period = 4000,
                                        .samples = o.samples});
    for (uint32_t i = 0; i < kKernelFunctions; ++i)
        p.kernel_symbols.push_back(kprof::KernelSymbol{.addr = kKernelBase + i * kSymbolSize,
                                                       .name = fmt::format("kfunc_{}", i),
                                                       .module = "",
                                                       .type = 't'});
    kprof::Dso dso;
    dso.path = "/usr/bin/synthetic";
    dso.symbolized = true;
    for (uint32_t i = 0; i < kUserFunctions; ++i) {
        kprof::DsoSymbol s;
        s.start = i * kSymbolSize;
        s.size = kSymbolSize;
        s.name = fmt::format("ufunc_{}", i);
        dso.symbols.push_back(std::move(s));
    }
    p.dsos.push_back(std::move(dso));
    p.mappings.push_back(kprof::Mapping{.pid = kPid,
                                        .generation = 0,
                                        .start = kUserBase,
                                        .len = kUserFunctions * kSymbolSize,
                                        .pgoff = 0,
                                        .time_ns = 0,
                                        .dso = 0});
    for (uint32_t t = 0; t < 4; ++t)
        p.threads.push_back(kprof::Thread{.pid = kPid,
                                          .tid = kPid + t,
                                          .ppid = 1,
                                          .comm = fmt::format("synth-{}", t),
                                          .start_ns = 0,
                                          .exit_ns = 0});

    // A fixed random call graph: each function calls a few others (recursion included).
    auto pick = [&rng](uint64_t n) {
        return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
    };
    std::vector<uint32_t> user_callees(kUserFunctions * kCalleesPerFunction);
    std::vector<uint32_t> kernel_callees(kKernelFunctions * kCalleesPerFunction);
    for (auto& c : user_callees) c = static_cast<uint32_t>(pick(kUserFunctions));
    for (auto& c : kernel_callees) c = static_cast<uint32_t>(pick(kKernelFunctions));

    std::vector<uint64_t> root_first, leaf_first;
    uint64_t attempts = 0;
    while (p.stacks.size() < o.stacks) {
        if (++attempts > o.stacks * 100) throw kprof::Error("cannot make enough unique stacks");
        const uint32_t depth = 1 + static_cast<uint32_t>(pick(o.depth));
        const uint32_t user_depth = static_cast<uint32_t>(pick(std::min<uint32_t>(depth, 20) + 1));
        root_first.clear();
        uint32_t f = static_cast<uint32_t>(pick(32));  // few roots, like main/start_thread
        for (uint32_t d = 0; d < user_depth; ++d) {
            root_first.push_back(kUserBase + f * kSymbolSize + 8);
            f = user_callees[f * kCalleesPerFunction + pick(kCalleesPerFunction)];
        }
        uint32_t k = static_cast<uint32_t>(pick(64));  // few syscall entry points
        for (uint32_t d = user_depth; d < depth; ++d) {
            root_first.push_back(kKernelBase + k * kSymbolSize + 8);
            k = kernel_callees[k * kCalleesPerFunction + pick(kCalleesPerFunction)];
        }
        leaf_first.assign(root_first.rbegin(), root_first.rend());
        p.stacks.intern(leaf_first, depth - user_depth, kPid, 0);
    }

    // Skewed popularity: a few stacks take many samples, as in real profiles.
    p.samples.reserve(o.samples);
    std::exponential_distribution<double> skew(8.0);
    uint64_t t = 1'000'000'000;
    for (uint64_t i = 0; i < o.samples; ++i) {
        // Half the samples uniform (every stack is hit), half skewed to the first stacks.
        const double x = (i % 2) ? std::min(skew(rng), 0.999999)
                                 : std::uniform_real_distribution<double>(0, 1)(rng);
        const auto stack = static_cast<kprof::StackId>(x * static_cast<double>(o.stacks));
        const kprof::StackView v = p.stacks.get(stack);
        const uint32_t tid = kPid + static_cast<uint32_t>(i % 4);
        t += 250'000;
        p.samples.push_back(kprof::Sample{.time_ns = t,
                                          .period = 250'000,
                                          .pid = v.pid == 0 ? kPid : v.pid,
                                          .tid = tid,
                                          .stack = stack,
                                          .cpu = static_cast<uint16_t>(i % 2),
                                          .event = 0});
    }
    p.meta.first_sample_ns = 1'000'000'000;
    p.meta.duration_ns = t - p.meta.first_sample_ns;
    kprof::write_trace(o.out, p);
    std::printf("wrote %s: %zu samples, %zu unique stacks, %zu ips\n", o.out.c_str(),
                p.samples.size(), p.stacks.size(), p.stacks.ips().size());
    return 0;
}
