// Builds perf ring records byte by byte, the way the kernel lays them out, for decoder
// tests (and the fuzz corpus).
#pragma once

#include <linux/perf_event.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "collector/records.hpp"
#include "symbols/unwind.hpp"

namespace kprof::collector::testing {

class RecordBytes {
  public:
    RecordBytes(uint32_t type, uint16_t misc = 0) {
        perf_event_header h{type, misc, 0};
        put(&h, sizeof h);
    }
    RecordBytes& u64(uint64_t v) { return put(&v, 8); }
    RecordBytes& u32(uint32_t v) { return put(&v, 4); }
    // A NUL-terminated string padded to 8 bytes, as the kernel writes comm and filenames.
    RecordBytes& str(std::string_view s) {
        put(s.data(), s.size());
        do bytes_.push_back(0);
        while (bytes_.size() % 8);
        return *this;
    }
    // The sample_id trailer for the layout the collector uses
    // (TID, TIME, CPU, IDENTIFIER; no ID/STREAM_ID).
    RecordBytes& sample_id(uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu, uint64_t id) {
        return u32(pid).u32(tid).u64(time).u32(cpu).u32(0).u64(id);
    }
    std::vector<uint8_t> done() {
        const uint16_t size = static_cast<uint16_t>(bytes_.size());
        std::memcpy(bytes_.data() + 6, &size, 2);
        return bytes_;
    }

  private:
    RecordBytes& put(const void* p, size_t n) {
        // resize+memcpy rather than insert: GCC 12 warns falsely about insert into an
        // empty vector (-Wstringop-overflow).
        const size_t at = bytes_.size();
        bytes_.resize(at + n);
        std::memcpy(bytes_.data() + at, p, n);
        return *this;
    }
    std::vector<uint8_t> bytes_;
};

inline SampleLayout collector_layout(bool callchain = true) {
    uint64_t t = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                 PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD;
    if (callchain) t |= PERF_SAMPLE_CALLCHAIN;
    return SampleLayout{.sample_type = t, .sample_id_all = true};
}

// A sample in the collector's layout; `chain` is written as the callchain verbatim.
inline std::vector<uint8_t> sample_bytes(uint64_t id, uint64_t ip, uint32_t pid, uint32_t tid,
                                         uint64_t time, uint32_t cpu, uint64_t period,
                                         const std::vector<uint64_t>& chain) {
    RecordBytes r(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_KERNEL);
    r.u64(id).u64(ip).u32(pid).u32(tid).u64(time).u32(cpu).u32(0).u64(period);
    r.u64(chain.size());
    for (uint64_t w : chain) r.u64(w);
    return r.done();
}

// --call-graph dwarf: the user registers and stack follow the callchain.
inline SampleLayout dwarf_layout() {
    SampleLayout l = collector_layout();
    l.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    l.regs_user = kUnwindRegsMask;
    return l;
}

// What a --call-graph dwarf sample holds of user space.
struct UserCopy {
    uint64_t abi = kRegsAbi64;    // 0: no user registers (and then no stack)
    std::vector<uint64_t> regs;   // one per kUnwindRegsMask bit, lowest bit first
    std::vector<uint8_t> stack;   // the copy, `valid` bytes of it filled by the kernel
    uint64_t valid = UINT64_MAX;  // dyn_size; UINT64_MAX: all of it
};

// A sample of a task without user registers (a kernel thread).
inline UserCopy no_user_copy() {
    UserCopy u;
    u.abi = 0;
    return u;
}

inline std::vector<uint8_t> dwarf_sample_bytes(uint64_t id, uint64_t ip, uint32_t pid,
                                               uint64_t time, const std::vector<uint64_t>& chain,
                                               const UserCopy& user) {
    RecordBytes r(PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER);
    r.u64(id).u64(ip).u32(pid).u32(pid).u64(time).u32(0).u32(0).u64(1);
    r.u64(chain.size());
    for (uint64_t w : chain) r.u64(w);
    r.u64(user.abi);
    if (user.abi != 0)
        for (uint64_t w : user.regs) r.u64(w);
    r.u64(user.abi != 0 ? user.stack.size() : 0);
    if (user.abi != 0 && !user.stack.empty()) {
        for (size_t i = 0; i < user.stack.size(); i += 8) {
            uint64_t w = 0;
            std::memcpy(&w, user.stack.data() + i, std::min<size_t>(8, user.stack.size() - i));
            r.u64(w);
        }
        r.u64(user.valid == UINT64_MAX ? user.stack.size() : user.valid);
    }
    return r.done();
}

}  // namespace kprof::collector::testing
