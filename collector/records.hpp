// Decoding of perf ring-buffer records: a pure function over bytes (no kernel, no state),
// so that it can be fed synthetic records in tests and random bytes by the fuzzer.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace kprof::collector {

// What the kernel puts in each sample and in the sample_id trailer of the other records;
// the same for every event of a recording (PERF_SAMPLE_IDENTIFIER makes the event id the
// first word of a sample and the last word of every other record, so events are told
// apart without knowing their type).
struct SampleLayout {
    uint64_t sample_type = 0;   // PERF_SAMPLE_* bits
    bool sample_id_all = true;  // non-sample records carry the trailer
    uint64_t regs_user = 0;     // sample_regs_user: which registers REGS_USER holds

    auto operator<=>(const SampleLayout&) const = default;
};

// The trailer of non-sample records (attr.sample_id_all).
struct SampleId {
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t time = 0;
    uint64_t id = 0;
    uint32_t cpu = 0;
    bool present = false;  // false when the record was too short to hold it
};

struct SampleRecord {
    uint16_t misc = 0;
    uint64_t id = 0;
    uint64_t ip = 0;
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t time = 0;
    uint32_t cpu = 0;
    uint64_t period = 1;
    uint64_t nr_callchain = 0;
    // The raw callchain words (context markers included) inside the decoded bytes; read
    // them with callchain_word(), which copes with any alignment.
    std::span<const uint8_t> callchain;
    // --call-graph dwarf: the user registers (PERF_SAMPLE_REGS_USER; abi 0 when the task
    // had none, a kernel thread), one word per bit of the layout's regs_user, and the
    // valid part of the user stack copy (PERF_SAMPLE_STACK_USER) from the user sp up.
    uint64_t regs_abi = 0;
    std::span<const uint8_t> user_regs;
    std::span<const uint8_t> user_stack;

    uint64_t callchain_word(size_t i) const {
        uint64_t v;
        std::memcpy(&v, callchain.data() + i * 8, 8);
        return v;
    }
    uint64_t user_reg(size_t i) const {
        uint64_t v;
        std::memcpy(&v, user_regs.data() + i * 8, 8);
        return v;
    }
};

// PERF_RECORD_MMAP2 (and the older PERF_RECORD_MMAP, decoded into the same shape).
struct MmapRecord {
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint64_t addr = 0;
    uint64_t len = 0;
    uint64_t pgoff = 0;
    uint32_t prot = 0;
    uint32_t flags = 0;
    bool executable = true;
    std::string_view filename;  // inside the decoded bytes
    SampleId sid;
};

struct CommRecord {
    uint32_t pid = 0;
    uint32_t tid = 0;
    bool exec = false;  // PERF_RECORD_MISC_COMM_EXEC: the name changed because of an exec
    std::string_view comm;
    SampleId sid;
};

// PERF_RECORD_FORK and PERF_RECORD_EXIT share a layout.
struct TaskRecord {
    bool exit = false;
    uint32_t pid = 0;
    uint32_t ppid = 0;
    uint32_t tid = 0;
    uint32_t ptid = 0;
    uint64_t time = 0;
    SampleId sid;
};

struct LostRecord {
    uint64_t id = 0;
    uint64_t lost = 0;
    SampleId sid;
};

struct LostSamplesRecord {
    uint64_t lost = 0;
    SampleId sid;
};

struct ThrottleRecord {
    bool unthrottle = false;
    uint64_t time = 0;
    uint64_t id = 0;
    uint64_t stream_id = 0;
    SampleId sid;
};

// A type this decoder does not need: skipped by its header size.
struct UnknownRecord {
    uint32_t type = 0;
    uint16_t size = 0;
};

// A record of a known type too short for its own fields (never seen from a sane kernel;
// counted, never trusted).
struct MalformedRecord {
    uint32_t type = 0;
    uint16_t size = 0;
};

using Record = std::variant<SampleRecord, MmapRecord, CommRecord, TaskRecord, LostRecord,
                            LostSamplesRecord, ThrottleRecord, UnknownRecord, MalformedRecord>;

// Decodes exactly one record: `bytes` starts with its perf_event_header and is header.size
// long (shorter input gives MalformedRecord). Views in the result point into `bytes`.
Record decode_record(std::span<const uint8_t> bytes, const SampleLayout& layout);

// The perf-clock time of a record (sample time or sample_id trailer time), 0 if none.
uint64_t record_time(const Record& record);

// Turns a sample's callchain into a stack, leaf first, without context markers: the
// kernel frames first (kernel_depth of them), then the user frames. Without a callchain
// the stack is the sample ip alone. At most max_depth frames are kept.
void callchain_to_stack(const SampleRecord& sample, std::vector<uint64_t>& ips,
                        uint32_t& kernel_depth, uint32_t max_depth);

// Walks the records of a ring's data area between tail and head (positions that only
// grow; the data area size is a power of two). A record that wraps past the end of the
// area is copied into `scratch` so `fn` always sees it whole. A header with an impossible
// size stops the walk (the rest up to head is skipped). Returns the new tail.
template <typename Fn>
uint64_t walk_ring(std::span<const uint8_t> data, uint64_t tail, uint64_t head,
                   std::vector<uint8_t>& scratch, Fn&& fn, uint64_t* corrupt_bytes = nullptr) {
    const uint64_t mask = data.size() - 1;
    while (head - tail >= 8) {
        const uint64_t off = tail & mask;
        uint8_t hdr[8];
        for (int i = 0; i < 8; ++i) hdr[i] = data[(off + static_cast<uint64_t>(i)) & mask];
        uint16_t size;
        std::memcpy(&size, hdr + 6, 2);
        if (size < 8 || size > head - tail) {
            if (corrupt_bytes) *corrupt_bytes += head - tail;
            return head;
        }
        if (off + size <= data.size()) {
            fn(data.subspan(off, size));
        } else {
            const size_t first = data.size() - off;
            scratch.resize(size);
            std::memcpy(scratch.data(), data.data() + off, first);
            std::memcpy(scratch.data() + first, data.data(), size - first);
            fn(std::span<const uint8_t>(scratch.data(), size));
        }
        tail += size;
    }
    return tail;
}

}  // namespace kprof::collector
