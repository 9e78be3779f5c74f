// libFuzzer target: the .kprof trace reader (read_trace_bytes). See trace_input.hpp for
// what the first input byte means.
#include <cstdint>
#include <span>
#include <vector>

#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/trace_input.hpp"
#include "trace/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    if (size == 0) return 0;
    const uint8_t flags = data[0];
    const std::span<const uint8_t> rest(data + 1, size - 1);
    std::vector<uint8_t> bytes;
    switch ((flags >> 1) & 3) {
        case 1:
            bytes.assign(rest.begin(), rest.end());
            fuzz::fix_crcs(bytes);
            break;
        case 2:
            bytes = fuzz::build_from_chunks(rest, flags & fuzz::kWithTrailer);
            break;
        default:
            bytes.assign(rest.begin(), rest.end());
    }
    try {
        ReadReport report;
        const Profile p = read_trace_bytes(bytes, "fuzz.kprof",
                                           ReadOptions{.recover = (flags & 1) != 0}, &report);
        fuzz::check_profile(p);
    } catch (const Error&) {
        // Rejected with a message: what a bad file should get.
    }
    return 0;
}
