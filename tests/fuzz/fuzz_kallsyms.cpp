// libFuzzer target: the /proc/kallsyms parser. Its result must come sorted by address
// (lookups binary-search it) and every symbol must resolve.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "symbols/kallsyms.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    uint64_t skipped = 0;
    Profile p;
    try {
        p.kernel_symbols =
            parse_kallsyms(std::string_view(reinterpret_cast<const char*>(data), size), &skipped);
    } catch (const Error&) {
        return 0;
    }
    if (!std::is_sorted(p.kernel_symbols.begin(), p.kernel_symbols.end(),
                        [](const auto& a, const auto& b) { return a.addr < b.addr; }))
        fuzz::violated("parse_kallsyms result not sorted by address");
    kallsyms_restricted(p.kernel_symbols);
    // One kernel-only stack through every symbol address (and one past each), resolved.
    std::vector<uint64_t> ips;
    for (const KernelSymbol& s : p.kernel_symbols) {
        if (ips.size() + 2 > kMaxStackDepth) break;
        ips.push_back(s.addr);
        ips.push_back(s.addr + 1);
    }
    if (!ips.empty()) {
        p.events.push_back(EventDesc{.name = "cpu-clock"});
        const StackId id = p.stacks.intern(ips, static_cast<uint32_t>(ips.size()), 0, 0);
        p.samples.push_back(Sample{.stack = id});
    }
    fuzz::check_profile(p);
    return 0;
}
