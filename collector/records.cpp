#include "collector/records.hpp"

#include <linux/perf_event.h>
#include <sys/mman.h>

#include <algorithm>
#include <bit>

#include "trace/profile.hpp"

namespace kprof::collector {
namespace {

// Bounds-checked little reader over one record; reads past the end fail instead of
// touching memory outside the record.
class Cursor {
  public:
    Cursor(std::span<const uint8_t> bytes, size_t pos = 0) : bytes_(bytes), pos_(pos) {}
    bool u64(uint64_t& v) { return get(&v, 8); }
    bool u32(uint32_t& v) { return get(&v, 4); }
    bool skip(size_t n) {
        if (n > bytes_.size() - pos_) return false;
        pos_ += n;
        return true;
    }
    size_t pos() const { return pos_; }

  private:
    bool get(void* out, size_t n) {
        if (pos_ > bytes_.size() || n > bytes_.size() - pos_) return false;
        std::memcpy(out, bytes_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    std::span<const uint8_t> bytes_;
    size_t pos_;
};

size_t sample_id_size(const SampleLayout& layout) {
    if (!layout.sample_id_all) return 0;
    const uint64_t t = layout.sample_type;
    size_t n = 0;
    if (t & PERF_SAMPLE_TID) n += 8;
    if (t & PERF_SAMPLE_TIME) n += 8;
    if (t & PERF_SAMPLE_ID) n += 8;
    if (t & PERF_SAMPLE_STREAM_ID) n += 8;
    if (t & PERF_SAMPLE_CPU) n += 8;
    if (t & PERF_SAMPLE_IDENTIFIER) n += 8;
    return n;
}

// The trailer sits at the very end of the record; `body_end` is where it starts.
SampleId decode_sample_id(std::span<const uint8_t> bytes, const SampleLayout& layout,
                          size_t min_body, size_t* body_end) {
    SampleId sid;
    const size_t n = sample_id_size(layout);
    *body_end = bytes.size();
    if (n == 0 || bytes.size() < min_body + n) return sid;
    *body_end = bytes.size() - n;
    Cursor c(bytes, bytes.size() - n);
    const uint64_t t = layout.sample_type;
    uint64_t skip;
    if (t & PERF_SAMPLE_TID) c.u32(sid.pid), c.u32(sid.tid);
    if (t & PERF_SAMPLE_TIME) c.u64(sid.time);
    if (t & PERF_SAMPLE_ID) c.u64(sid.id);
    if (t & PERF_SAMPLE_STREAM_ID) c.u64(skip);
    if (t & PERF_SAMPLE_CPU) {
        uint32_t res;
        c.u32(sid.cpu), c.u32(res);
    }
    if (t & PERF_SAMPLE_IDENTIFIER) c.u64(sid.id);
    sid.present = true;
    return sid;
}

// A NUL-terminated (and NUL-padded) string between `from` and `to`.
std::string_view c_string(std::span<const uint8_t> bytes, size_t from, size_t to) {
    if (from >= to || to > bytes.size()) return {};
    const char* p = reinterpret_cast<const char*>(bytes.data() + from);
    const size_t max = to - from;
    const void* nul = std::memchr(p, 0, max);
    return std::string_view(p, nul ? static_cast<size_t>(static_cast<const char*>(nul) - p) : max);
}

Record decode_sample(std::span<const uint8_t> bytes, uint16_t misc, const SampleLayout& layout) {
    SampleRecord s;
    s.misc = misc;
    Cursor c(bytes, sizeof(perf_event_header));
    const uint64_t t = layout.sample_type;
    bool ok = true;
    uint64_t skip;
    const MalformedRecord bad{PERF_RECORD_SAMPLE, static_cast<uint16_t>(bytes.size())};
    if (t & PERF_SAMPLE_IDENTIFIER) ok = ok && c.u64(s.id);
    if (t & PERF_SAMPLE_IP) ok = ok && c.u64(s.ip);
    if (t & PERF_SAMPLE_TID) ok = ok && c.u32(s.pid) && c.u32(s.tid);
    if (t & PERF_SAMPLE_TIME) ok = ok && c.u64(s.time);
    if (t & PERF_SAMPLE_ADDR) ok = ok && c.u64(skip);
    if (t & PERF_SAMPLE_ID) ok = ok && c.u64(s.id);
    if (t & PERF_SAMPLE_STREAM_ID) ok = ok && c.u64(skip);
    if (t & PERF_SAMPLE_CPU) {
        uint32_t res;
        ok = ok && c.u32(s.cpu) && c.u32(res);
    }
    if (t & PERF_SAMPLE_PERIOD) ok = ok && c.u64(s.period);
    if (!ok) return bad;
    if (t & PERF_SAMPLE_CALLCHAIN) {
        if (!c.u64(s.nr_callchain)) return bad;
        const size_t left = bytes.size() - c.pos();
        if (s.nr_callchain > left / 8) return bad;
        s.callchain = bytes.subspan(c.pos(), s.nr_callchain * 8);
        c.skip(s.nr_callchain * 8);
    }
    if (t & PERF_SAMPLE_RAW) {
        uint32_t n = 0;
        if (!c.u32(n) || !c.skip(n)) return bad;
    }
    if (t & PERF_SAMPLE_REGS_USER) {
        if (!c.u64(s.regs_abi)) return bad;
        if (s.regs_abi != 0) {
            const size_t n = static_cast<size_t>(std::popcount(layout.regs_user)) * 8;
            const size_t at = c.pos();
            if (!c.skip(n)) return bad;
            s.user_regs = bytes.subspan(at, n);
        }
    }
    if (t & PERF_SAMPLE_STACK_USER) {
        uint64_t size = 0;
        if (!c.u64(size)) return bad;
        if (size != 0) {
            const size_t at = c.pos();
            uint64_t dyn_size = 0;
            if (size > bytes.size() - at || !c.skip(size) || !c.u64(dyn_size)) return bad;
            s.user_stack = bytes.subspan(at, std::min(size, dyn_size));
        }
    }
    return s;
}

}  // namespace

Record decode_record(std::span<const uint8_t> bytes, const SampleLayout& layout) {
    perf_event_header h{};
    if (bytes.size() < sizeof h) return MalformedRecord{0, static_cast<uint16_t>(bytes.size())};
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.size < sizeof h || h.size > bytes.size()) return MalformedRecord{h.type, h.size};
    bytes = bytes.first(h.size);
    const MalformedRecord bad{h.type, h.size};
    size_t body_end = 0;
    Cursor c(bytes, sizeof h);

    switch (h.type) {
        case PERF_RECORD_SAMPLE:
            return decode_sample(bytes, h.misc, layout);
        case PERF_RECORD_MMAP:
        case PERF_RECORD_MMAP2: {
            MmapRecord m;
            const bool v2 = h.type == PERF_RECORD_MMAP2;
            const size_t fixed = sizeof h + (v2 ? 64 : 32);
            m.sid = decode_sample_id(bytes, layout, fixed, &body_end);
            if (!(c.u32(m.pid) && c.u32(m.tid) && c.u64(m.addr) && c.u64(m.len) && c.u64(m.pgoff)))
                return bad;
            if (v2) {
                if (!(c.skip(24) && c.u32(m.prot) && c.u32(m.flags))) return bad;
                m.executable = (m.prot & PROT_EXEC) != 0;
            } else {
                m.executable = (h.misc & PERF_RECORD_MISC_MMAP_DATA) == 0;
            }
            if (c.pos() > body_end) return bad;
            m.filename = c_string(bytes, c.pos(), body_end);
            return m;
        }
        case PERF_RECORD_COMM: {
            CommRecord r;
            r.sid = decode_sample_id(bytes, layout, sizeof h + 8, &body_end);
            if (!(c.u32(r.pid) && c.u32(r.tid))) return bad;
            r.exec = (h.misc & PERF_RECORD_MISC_COMM_EXEC) != 0;
            r.comm = c_string(bytes, c.pos(), body_end);
            return r;
        }
        case PERF_RECORD_FORK:
        case PERF_RECORD_EXIT: {
            TaskRecord r;
            r.exit = h.type == PERF_RECORD_EXIT;
            r.sid = decode_sample_id(bytes, layout, sizeof h + 24, &body_end);
            if (!(c.u32(r.pid) && c.u32(r.ppid) && c.u32(r.tid) && c.u32(r.ptid) && c.u64(r.time)))
                return bad;
            return r;
        }
        case PERF_RECORD_LOST: {
            LostRecord r;
            r.sid = decode_sample_id(bytes, layout, sizeof h + 16, &body_end);
            if (!(c.u64(r.id) && c.u64(r.lost))) return bad;
            return r;
        }
        case PERF_RECORD_LOST_SAMPLES: {
            LostSamplesRecord r;
            r.sid = decode_sample_id(bytes, layout, sizeof h + 8, &body_end);
            if (!c.u64(r.lost)) return bad;
            return r;
        }
        case PERF_RECORD_THROTTLE:
        case PERF_RECORD_UNTHROTTLE: {
            ThrottleRecord r;
            r.unthrottle = h.type == PERF_RECORD_UNTHROTTLE;
            r.sid = decode_sample_id(bytes, layout, sizeof h + 24, &body_end);
            if (!(c.u64(r.time) && c.u64(r.id) && c.u64(r.stream_id))) return bad;
            return r;
        }
        default:
            return UnknownRecord{h.type, h.size};
    }
}

uint64_t record_time(const Record& record) {
    return std::visit(
        [](const auto& r) -> uint64_t {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, SampleRecord> || std::is_same_v<T, TaskRecord> ||
                          std::is_same_v<T, ThrottleRecord>)
                return r.time;
            else if constexpr (std::is_same_v<T, UnknownRecord> ||
                               std::is_same_v<T, MalformedRecord>)
                return 0;
            else
                return r.sid.time;
        },
        record);
}

void callchain_to_stack(const SampleRecord& sample, std::vector<uint64_t>& ips,
                        uint32_t& kernel_depth, uint32_t max_depth) {
    ips.clear();
    kernel_depth = 0;
    if (sample.nr_callchain == 0) {
        if (max_depth == 0) return;
        ips.push_back(sample.ip);
        kernel_depth = sample.ip >= kKernelAddressStart ? 1 : 0;
        return;
    }
    // Context markers (PERF_CONTEXT_KERNEL, _USER, _HV, _GUEST*) are the top 4095 values
    // and say whose frames follow. Frames before any marker are classified by address.
    enum class Ctx { kUnknown, kKernel, kUser, kOther } ctx = Ctx::kUnknown;
    bool user_seen = false;
    for (uint64_t i = 0; i < sample.nr_callchain && ips.size() < max_depth; ++i) {
        const uint64_t w = sample.callchain_word(i);
        if (w >= static_cast<uint64_t>(PERF_CONTEXT_MAX)) {
            if (w == static_cast<uint64_t>(PERF_CONTEXT_KERNEL))
                ctx = Ctx::kKernel;
            else if (w == static_cast<uint64_t>(PERF_CONTEXT_USER))
                ctx = Ctx::kUser;
            else
                ctx = Ctx::kOther;  // hypervisor and guest frames are not ours to resolve
            continue;
        }
        bool kernel;
        switch (ctx) {
            case Ctx::kKernel:
                kernel = true;
                break;
            case Ctx::kUser:
                kernel = false;
                break;
            case Ctx::kOther:
                continue;
            default:
                kernel = w >= kKernelAddressStart;
        }
        // Kernel frames after user frames would break the "kernel first" layout; the
        // kernel never produces them, so such frames are dropped rather than misfiled.
        if (kernel && user_seen) continue;
        if (!kernel) user_seen = true;
        ips.push_back(w);
        if (kernel) ++kernel_depth;
    }
    if (ips.empty() && max_depth > 0) {
        ips.push_back(sample.ip);
        kernel_depth = sample.ip >= kKernelAddressStart ? 1 : 0;
    }
}

}  // namespace kprof::collector
