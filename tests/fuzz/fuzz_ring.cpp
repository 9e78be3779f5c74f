// libFuzzer target: the perf ring-buffer record decoder (collector/records.hpp) and the
// ProfileBuilder that turns decoded records into the trace model, i.e. everything the
// collector does with bytes the kernel (or anything able to write the ring) put there.
// Input: [u64 LE sample_type][u8: bit 0 sample_id_all, bits 1..7 ring cpu]
//        [u16 LE tail][record stream]. The stream is laid into a power-of-two ring so
//        that it starts at `tail`, wrapping past the end as the kernel's writes do.
#include <linux/perf_event.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "collector/profile_builder.hpp"
#include "collector/records.hpp"
#include "symbols/unwind.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace kprof;
    using namespace kprof::collector;
    constexpr size_t kHead = 11;
    if (size < kHead) return 0;
    uint64_t sample_type = 0;
    for (int i = 7; i >= 0; --i) sample_type = (sample_type << 8) | data[i];
    const SampleLayout layout{
        .sample_type = sample_type,
        .sample_id_all = (data[8] & 1) != 0,
        .regs_user = (sample_type & PERF_SAMPLE_REGS_USER) ? kUnwindRegsMask : 0};
    const uint32_t ring_cpu = data[8] >> 1;
    const uint64_t tail = data[9] | (uint64_t{data[10]} << 8);
    const std::span<const uint8_t> stream(data + kHead, size - kHead);

    // The whole stream as one record: decode_record must cope with any length.
    const Record whole = decode_record(stream, layout);
    record_time(whole);

    std::vector<uint8_t> ring(std::bit_ceil(std::max<size_t>(stream.size(), 8)));
    const uint64_t mask = ring.size() - 1;
    for (size_t i = 0; i < stream.size(); ++i) ring[(tail + i) & mask] = stream[i];

    Profile profile;
    profile.events = {EventDesc{.name = "cpu-clock"}, EventDesc{.name = "page-faults"}};
    ProfileBuilder builder(profile, {{0, 0}, {1, 1}, {7, 0}}, {0, 1});
    std::vector<uint8_t> scratch;
    std::vector<uint64_t> ips;
    uint64_t corrupt = 0;
    const uint64_t new_tail = walk_ring(
        ring, tail, tail + stream.size(), scratch,
        [&](std::span<const uint8_t> bytes) {
            const Record r = decode_record(bytes, layout);
            record_time(r);
            if (const auto* s = std::get_if<SampleRecord>(&r)) {
                uint32_t kernel_depth = 0;
                callchain_to_stack(*s, ips, kernel_depth, kMaxStackDepth);
                if (ips.size() > kMaxStackDepth || kernel_depth > ips.size())
                    fuzz::violated("callchain_to_stack broke its depth limits");
            } else if (const auto* m = std::get_if<MmapRecord>(&r)) {
                if (!m->filename.empty() &&
                    (m->filename.data() < reinterpret_cast<const char*>(bytes.data()) ||
                     m->filename.data() + m->filename.size() >
                         reinterpret_cast<const char*>(bytes.data() + bytes.size())))
                    fuzz::violated("mmap filename outside its record");
            }
            builder.add(r, ring_cpu);
        },
        &corrupt);
    if (new_tail != tail + stream.size() && stream.size() - (new_tail - tail) >= 8)
        fuzz::violated("walk_ring stopped early with a whole header left");
    builder.finalize();
    fuzz::check_profile(profile);
    return 0;
}
