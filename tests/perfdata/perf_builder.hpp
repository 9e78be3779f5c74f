// Builds perf.data images byte by byte (file or pipe mode, either byte order), so the
// reader is tested on exactly the layouts of include/uapi/linux/perf_event.h and
// tools/perf/util/header.c without depending on a perf binary.
#pragma once

#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kprof::test {

namespace st {
inline constexpr uint64_t ip = 1U << 0, tid = 1U << 1, time = 1U << 2, addr = 1U << 3,
                          read = 1U << 4, callchain = 1U << 5, id = 1U << 6, cpu = 1U << 7,
                          period = 1U << 8, stream_id = 1U << 9, raw = 1U << 10,
                          regs_user = 1U << 12, stack_user = 1U << 13, identifier = 1U << 16;
}  // namespace st

inline constexpr uint64_t kFreqFlag = 1ULL << 10;
inline constexpr uint64_t kSampleIdAllFlag = 1ULL << 18;
inline constexpr uint64_t kCtxKernel = static_cast<uint64_t>(-128);
inline constexpr uint64_t kCtxUser = static_cast<uint64_t>(-512);

// Bytes in a chosen byte order.
class Buf {
  public:
    explicit Buf(bool big_endian) : be_(big_endian) {}
    void u8(uint8_t v) { b_.push_back(v); }
    void u16(uint16_t v) { put(v, 2); }
    void u32(uint32_t v) { put(v, 4); }
    void u64(uint64_t v) { put(v, 8); }
    void bytes(std::span<const uint8_t> v) { b_.insert(b_.end(), v.begin(), v.end()); }
    // NUL-terminated, padded with zeros to a multiple of 8.
    void cstr(const std::string& s) {
        b_.insert(b_.end(), s.begin(), s.end());
        do b_.push_back(0);
        while (b_.size() % 8);
    }
    // perf's feature string: u32 length (padded), then the padded string.
    void feature_string(const std::string& s) {
        const uint32_t len = static_cast<uint32_t>((s.size() + 1 + 63) / 64 * 64);
        u32(len);
        b_.insert(b_.end(), s.begin(), s.end());
        b_.resize(b_.size() + len - s.size(), 0);
    }
    void patch_u16(size_t at, uint16_t v) {
        for (int i = 0; i < 2; ++i)
            b_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (be_ ? 1 - i : i)));
    }
    void patch_u64(size_t at, uint64_t v) {
        for (int i = 0; i < 8; ++i)
            b_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * (be_ ? 7 - i : i)));
    }
    size_t size() const { return b_.size(); }
    bool big_endian() const { return be_; }
    std::vector<uint8_t>& data() { return b_; }
    const std::vector<uint8_t>& data() const { return b_; }

  private:
    void put(uint64_t v, int n) {
        for (int i = 0; i < n; ++i)
            b_.push_back(static_cast<uint8_t>(v >> (8 * (be_ ? n - 1 - i : i))));
    }
    bool be_;
    std::vector<uint8_t> b_;
};

struct AttrSpec {
    uint32_t type = 1;  // PERF_TYPE_SOFTWARE
    uint64_t config = 0;
    uint64_t period = 4000;
    uint64_t sample_type = st::ip | st::tid | st::time | st::cpu | st::period | st::callchain;
    uint64_t read_format = 0;
    uint64_t flags = kFreqFlag | kSampleIdAllFlag;
    uint64_t regs_user = 0;  // sample_regs_user
    std::vector<uint64_t> ids;
};

inline uint8_t reverse_bits(uint8_t b) {
    uint8_t r = 0;
    for (int i = 0; i < 8; ++i)
        if (b & (1U << i)) r = static_cast<uint8_t>(r | (1U << (7 - i)));
    return r;
}

// perf_event_attr, 128 bytes (PERF_ATTR_SIZE_VER7).
inline void put_attr(Buf& b, const AttrSpec& a) {
    b.u32(a.type);
    b.u32(128);
    b.u64(a.config);
    b.u64(a.period);
    b.u64(a.sample_type);
    b.u64(a.read_format);
    // Bitfields: a big-endian compiler allocates them from the top bit of each byte.
    for (int i = 0; i < 8; ++i) {
        const auto byte = static_cast<uint8_t>(a.flags >> (8 * i));
        b.u8(b.big_endian() ? reverse_bits(byte) : byte);
    }
    for (size_t i = 48; i < 80; ++i) b.u8(0);
    b.u64(a.regs_user);
    for (size_t i = 88; i < 128; ++i) b.u8(0);
}

// What goes into a SAMPLE record; written in the order the attr's sample_type asks for.
struct SampleSpec {
    uint64_t id = 0;
    uint64_t ip = 0;
    uint32_t pid = 0, tid = 0;
    uint64_t time = 0;
    uint32_t cpu = 0;
    uint64_t period = 1;
    std::vector<uint64_t> read;       // raw u64s of the READ field
    std::vector<uint64_t> callchain;  // raw, with PERF_CONTEXT_* markers
    std::vector<uint8_t> raw;         // RAW payload (u32 size is added)
    uint64_t regs_abi = 0;            // REGS_USER: 0, or 2 (64-bit) followed by user_regs
    std::vector<uint64_t> user_regs;  // one per bit of the attr's regs_user
    std::vector<uint8_t> user_stack;  // STACK_USER copy (a multiple of 8 bytes)
    uint64_t stack_valid = 0;         // its dyn_size
    uint16_t misc = 1;                // PERF_RECORD_MISC_KERNEL
};

// sample_id trailer of non-sample records.
struct SampleId {
    uint32_t pid = 0, tid = 0;
    uint64_t time = 0;
    uint64_t id = 0;
    uint32_t cpu = 0;
};

class RecordWriter {
  public:
    RecordWriter(bool be, AttrSpec attr) : be_(be), attr_(std::move(attr)) {}
    const AttrSpec& attr() const { return attr_; }

    Buf begin(uint32_t type, uint16_t misc) const {
        Buf r(be_);
        r.u32(type);
        r.u16(misc);
        r.u16(0);
        return r;
    }
    static std::vector<uint8_t> end(Buf& r) {
        r.patch_u16(6, static_cast<uint16_t>(r.size()));
        return r.data();
    }
    void trailer(Buf& r, const SampleId& s) const {
        if (!(attr_.flags & kSampleIdAllFlag)) return;
        const uint64_t t = attr_.sample_type;
        if (t & st::tid) {
            r.u32(s.pid);
            r.u32(s.tid);
        }
        if (t & st::time) r.u64(s.time);
        if (t & st::id) r.u64(s.id);
        if (t & st::stream_id) r.u64(0);
        if (t & st::cpu) {
            r.u32(s.cpu);
            r.u32(0);
        }
        if (t & st::identifier) r.u64(s.id);
    }

    std::vector<uint8_t> sample(const SampleSpec& s) const {
        Buf r = begin(9, s.misc);
        const uint64_t t = attr_.sample_type;
        if (t & st::identifier) r.u64(s.id);
        if (t & st::ip) r.u64(s.ip);
        if (t & st::tid) {
            r.u32(s.pid);
            r.u32(s.tid);
        }
        if (t & st::time) r.u64(s.time);
        if (t & st::addr) r.u64(0xdead);
        if (t & st::id) r.u64(s.id);
        if (t & st::stream_id) r.u64(s.id);
        if (t & st::cpu) {
            r.u32(s.cpu);
            r.u32(0);
        }
        if (t & st::period) r.u64(s.period);
        if (t & st::read)
            for (uint64_t v : s.read) r.u64(v);
        if (t & st::callchain) {
            r.u64(s.callchain.size());
            for (uint64_t v : s.callchain) r.u64(v);
        }
        if (t & st::raw) {
            r.u32(static_cast<uint32_t>(s.raw.size()));
            r.bytes(s.raw);
        }
        if (t & st::regs_user) {
            r.u64(s.regs_abi);
            if (s.regs_abi != 0)
                for (uint64_t v : s.user_regs) r.u64(v);
        }
        if (t & st::stack_user) {
            r.u64(s.user_stack.size());
            if (!s.user_stack.empty()) {
                r.bytes(s.user_stack);
                r.u64(s.stack_valid);
            }
        }
        while (r.size() % 8) r.u8(0);
        return end(r);
    }
    std::vector<uint8_t> comm(uint32_t pid, uint32_t tid, const std::string& name, bool exec,
                              uint64_t time) const {
        Buf r = begin(3, exec ? (1U << 13) : 0);
        r.u32(pid);
        r.u32(tid);
        r.cstr(name);
        trailer(r, {pid, tid, time, id0(), 0});
        return end(r);
    }
    std::vector<uint8_t> mmap2(uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
                               const std::string& file, uint64_t time) const {
        Buf r = begin(10, 2);
        r.u32(pid);
        r.u32(pid);
        r.u64(start);
        r.u64(len);
        r.u64(pgoff);
        r.u32(8);   // maj
        r.u32(1);   // min
        r.u64(42);  // ino
        r.u64(0);
        r.u32(5);  // prot r-x
        r.u32(2);  // MAP_PRIVATE
        r.cstr(file);
        trailer(r, {pid, pid, time, id0(), 0});
        return end(r);
    }
    std::vector<uint8_t> mmap(uint32_t pid, uint64_t start, uint64_t len, uint64_t pgoff,
                              const std::string& file, uint64_t time) const {
        Buf r = begin(1, pid == UINT32_MAX ? 1 : 2);
        r.u32(pid);
        r.u32(pid == UINT32_MAX ? 0 : pid);
        r.u64(start);
        r.u64(len);
        r.u64(pgoff);
        r.cstr(file);
        trailer(r, {pid, pid, time, id0(), 0});
        return end(r);
    }
    std::vector<uint8_t> task(bool fork, uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                              uint64_t time) const {
        Buf r = begin(fork ? 7 : 4, 0);
        r.u32(pid);
        r.u32(ppid);
        r.u32(tid);
        r.u32(ptid);
        r.u64(time);
        trailer(r, {pid, tid, time, id0(), 0});
        return end(r);
    }
    std::vector<uint8_t> lost(uint64_t n, uint32_t cpu) const {
        Buf r = begin(2, 0);
        r.u64(id0());
        r.u64(n);
        trailer(r, {0, 0, 1, id0(), cpu});
        return end(r);
    }
    std::vector<uint8_t> lost_samples(uint64_t n, uint32_t cpu) const {
        Buf r = begin(13, 0);
        r.u64(n);
        trailer(r, {0, 0, 1, id0(), cpu});
        return end(r);
    }
    std::vector<uint8_t> throttle(bool on, uint32_t cpu) const {
        Buf r = begin(on ? 5 : 6, 0);
        r.u64(1);
        r.u64(id0());
        r.u64(id0());
        trailer(r, {0, 0, 1, id0(), cpu});
        return end(r);
    }
    std::vector<uint8_t> finished_round() const {
        Buf r = begin(68, 0);
        return end(r);
    }
    // A record type no perf has defined: readers must skip it by its size.
    std::vector<uint8_t> unknown(uint32_t type, size_t body) const {
        Buf r = begin(type, 0);
        for (size_t i = 0; i < body; ++i) r.u8(0xee);
        return end(r);
    }

  private:
    uint64_t id0() const { return attr_.ids.empty() ? 0 : attr_.ids[0]; }
    bool be_;
    AttrSpec attr_;
};

// Feature ids (tools/perf/util/header.h).
enum : uint32_t {
    kFeatBuildId = 2,
    kFeatHostname = 3,
    kFeatOsrelease = 4,
    kFeatArch = 6,
    kFeatNrcpus = 7,
    kFeatCmdline = 11,
    kFeatEventDesc = 12,
};

struct FeatureSpec {
    uint32_t id;
    std::vector<uint8_t> bytes;
};

inline FeatureSpec string_feature(bool be, uint32_t id, const std::string& s) {
    Buf b(be);
    b.feature_string(s);
    return {id, b.data()};
}

inline FeatureSpec event_desc_feature(bool be, const std::vector<AttrSpec>& attrs,
                                      const std::vector<std::string>& names) {
    Buf b(be);
    b.u32(static_cast<uint32_t>(attrs.size()));
    b.u32(128);
    for (size_t i = 0; i < attrs.size(); ++i) {
        put_attr(b, attrs[i]);
        b.u32(static_cast<uint32_t>(attrs[i].ids.size()));
        b.feature_string(names[i]);
        for (uint64_t id : attrs[i].ids) b.u64(id);
    }
    return {kFeatEventDesc, b.data()};
}

inline FeatureSpec build_id_feature(bool be, const std::string& file,
                                    const std::vector<uint8_t>& id) {
    Buf b(be);
    b.u32(67);
    b.u16(static_cast<uint16_t>(2 | (1U << 15)));  // user mode, size field valid
    b.u16(0);
    b.u32(UINT32_MAX);  // pid
    for (size_t i = 0; i < 20; ++i) b.u8(i < id.size() ? id[i] : 0);
    b.u8(static_cast<uint8_t>(id.size()));
    b.u8(0);
    b.u8(0);
    b.u8(0);
    b.cstr(file);
    b.patch_u16(6, static_cast<uint16_t>(b.size()));
    return {kFeatBuildId, b.data()};
}

inline std::vector<uint8_t> file_image(bool be, const std::vector<AttrSpec>& attrs,
                                       const std::vector<std::vector<uint8_t>>& records,
                                       std::vector<FeatureSpec> features) {
    Buf f(be);
    f.u64(0x32454c4946524550ULL);  // "PERFILE2" in the writer's byte order
    f.u64(104);
    f.u64(128 + 16);
    const size_t attrs_at = f.size();
    f.u64(0);  // attrs section: patched
    f.u64(0);
    f.u64(0);  // data section: patched
    f.u64(0);
    f.u64(0);  // event_types (unused)
    f.u64(0);
    uint64_t bits[4] = {};
    for (const FeatureSpec& s : features) bits[s.id / 64] |= 1ULL << (s.id % 64);
    for (uint64_t w : bits) f.u64(w);
    // ids arrays first, then the attrs pointing at them
    std::vector<uint64_t> id_offsets;
    for (const AttrSpec& a : attrs) {
        id_offsets.push_back(f.size());
        for (uint64_t id : a.ids) f.u64(id);
    }
    const size_t attr_start = f.size();
    for (size_t i = 0; i < attrs.size(); ++i) {
        put_attr(f, attrs[i]);
        f.u64(id_offsets[i]);
        f.u64(attrs[i].ids.size() * 8);
    }
    f.patch_u64(attrs_at, attr_start);
    f.patch_u64(attrs_at + 8, f.size() - attr_start);
    const size_t data_start = f.size();
    for (const auto& r : records) f.bytes(r);
    f.patch_u64(attrs_at + 16, data_start);
    f.patch_u64(attrs_at + 24, f.size() - data_start);
    std::sort(features.begin(), features.end(),
              [](const FeatureSpec& a, const FeatureSpec& b) { return a.id < b.id; });
    const size_t table = f.size();
    for (size_t i = 0; i < features.size(); ++i) {
        f.u64(0);
        f.u64(0);
    }
    for (size_t i = 0; i < features.size(); ++i) {
        f.patch_u64(table + 16 * i, f.size());
        f.patch_u64(table + 16 * i + 8, features[i].bytes.size());
        f.bytes(features[i].bytes);
    }
    return f.data();
}

// zstd-compress `records` into COMPRESSED (81) or COMPRESSED2 (83) records of at most
// `chunk` compressed bytes each, one stream across them as perf record -z writes it.
inline std::vector<std::vector<uint8_t>> compress_records(
    bool be, const std::vector<std::vector<uint8_t>>& records, bool v2, size_t chunk) {
    std::vector<uint8_t> plain;
    for (const auto& r : records) plain.insert(plain.end(), r.begin(), r.end());
    std::vector<uint8_t> z(ZSTD_compressBound(plain.size()));
    z.resize(ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3));
    std::vector<std::vector<uint8_t>> out;
    for (size_t at = 0; at < z.size(); at += chunk) {
        const size_t n = std::min(chunk, z.size() - at);
        Buf r(be);
        r.u32(v2 ? 83 : 81);
        r.u16(0);
        r.u16(0);
        if (v2) r.u64(n);
        r.bytes(std::span<const uint8_t>(z.data() + at, n));
        if (v2)
            while (r.size() % 8) r.u8(0);
        r.patch_u16(6, static_cast<uint16_t>(r.size()));
        out.push_back(r.data());
    }
    return out;
}

}  // namespace kprof::test
