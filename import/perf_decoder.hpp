// Internal to the perf.data reader (import/perf_reader.cpp, import/perf_records.cpp):
// perf's record, sample and feature constants, the bounds-checked byte window and the
// Decoder that fills a Recording. Not part of the import API: include
// import/perf_reader.hpp instead.
#pragma once

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "import/perf_reader.hpp"
#include "trace/error.hpp"

namespace kprof::perf::detail {

static_assert(std::endian::native == std::endian::little,
              "the perf.data reader assumes a little-endian host");

// Record types (include/uapi/linux/perf_event.h, tools/lib/perf/include/perf/event.h).
enum RecordType : uint32_t {
    kMmap = 1,
    kLost = 2,
    kComm = 3,
    kExit = 4,
    kThrottle = 5,
    kUnthrottle = 6,
    kFork = 7,
    kSample = 9,
    kMmap2 = 10,
    kLostSamples = 13,
    kHeaderAttr = 64,
    kHeaderTracingData = 66,
    kHeaderBuildId = 67,
    kAuxtrace = 71,
    kEventUpdate = 78,
    kHeaderFeature = 80,
    kCompressed = 81,
    kCompressed2 = 83,
};

enum SampleBits : uint64_t {
    kIp = 1U << 0,
    kTid = 1U << 1,
    kTime = 1U << 2,
    kAddr = 1U << 3,
    kRead = 1U << 4,
    kCallchain = 1U << 5,
    kId = 1U << 6,
    kCpu = 1U << 7,
    kPeriod = 1U << 8,
    kStreamId = 1U << 9,
    kRaw = 1U << 10,
    kBranchStack = 1U << 11,
    kRegsUser = 1U << 12,
    kStackUser = 1U << 13,
    kIdentifier = 1U << 16,
};

enum ReadFormat : uint64_t {
    kTotalTimeEnabled = 1U << 0,
    kTotalTimeRunning = 1U << 1,
    kFormatId = 1U << 2,
    kGroup = 1U << 3,
    kFormatLost = 1U << 4,
};

constexpr uint64_t kBranchHwIndex = 1U << 17;
constexpr uint64_t kBranchCounters = 1U << 19;

constexpr uint16_t kMiscCpumodeMask = 7;
constexpr uint16_t kMiscKernel = 1;
constexpr uint16_t kMiscCommExec = 1U << 13;
constexpr uint16_t kMiscMmapBuildId = 1U << 14;
constexpr uint16_t kMiscBuildIdSize = 1U << 15;

constexpr uint64_t kContextHv = static_cast<uint64_t>(-32);
constexpr uint64_t kContextKernel = static_cast<uint64_t>(-128);
constexpr uint64_t kContextUser = static_cast<uint64_t>(-512);
constexpr uint64_t kContextMax = static_cast<uint64_t>(-4095);

// Feature section ids (tools/perf/util/header.h).
enum Feature : uint32_t {
    kFeatBuildId = 2,
    kFeatHostname = 3,
    kFeatOsrelease = 4,
    kFeatVersion = 5,
    kFeatArch = 6,
    kFeatNrcpus = 7,
    kFeatCmdline = 11,
    kFeatEventDesc = 12,
    kFeatClockData = 29,
    kFeatLast = 256,
};

constexpr uint64_t kEventUpdateName = 2;
constexpr size_t kFileHeaderSize = 104;
constexpr size_t kPipeHeaderSize = 16;
constexpr size_t kAttrVer0Size = 64;
// Bigger counts than this in a header are corruption, whatever the file size says.
constexpr uint64_t kMaxAttrs = 1U << 16;

inline uint64_t to_u64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

inline uint8_t reverse_bits(uint8_t b) {
    b = static_cast<uint8_t>((b & 0xF0) >> 4 | (b & 0x0F) << 4);
    b = static_cast<uint8_t>((b & 0xCC) >> 2 | (b & 0x33) << 2);
    b = static_cast<uint8_t>((b & 0xAA) >> 1 | (b & 0x55) << 1);
    return b;
}

inline std::string hex(std::span<const uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(b.size() * 2);
    for (uint8_t c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

// A bounds-checked window of the input; offsets in errors are file offsets.
class Bytes {
  public:
    Bytes(std::span<const uint8_t> data, uint64_t base, bool swap, const std::string* name)
        : data_(data), base_(base), swap_(swap), name_(name) {}

    size_t size() const { return data_.size(); }
    uint64_t base() const { return base_; }
    bool swap() const { return swap_; }

    [[noreturn]] void fail(size_t pos, const std::string& what) const {
        throw TraceError(*name_, base_ + pos, what);
    }
    void need(size_t pos, size_t n, const char* what) const {
        if (pos > data_.size() || n > data_.size() - pos)
            fail(pos, std::string("truncated ") + what);
    }
    uint16_t u16(size_t pos) const {
        need(pos, 2, "field");
        uint16_t v;
        std::memcpy(&v, data_.data() + pos, 2);
        return swap_ ? __builtin_bswap16(v) : v;
    }
    uint32_t u32(size_t pos) const {
        need(pos, 4, "field");
        uint32_t v;
        std::memcpy(&v, data_.data() + pos, 4);
        return swap_ ? __builtin_bswap32(v) : v;
    }
    uint64_t u64(size_t pos) const {
        need(pos, 8, "field");
        const uint64_t v = to_u64(data_.data() + pos);
        return swap_ ? __builtin_bswap64(v) : v;
    }
    std::span<const uint8_t> raw(size_t pos, size_t n) const {
        need(pos, n, "field");
        return data_.subspan(pos, n);
    }
    Bytes slice(size_t pos, size_t n) const {
        need(pos, n, "section");
        return Bytes(data_.subspan(pos, n), base_ + pos, swap_, name_);
    }
    // A NUL-terminated string of at most `max` bytes starting at pos.
    std::string str(size_t pos, size_t max) const {
        if (pos >= data_.size()) return {};
        max = std::min(max, data_.size() - pos);
        const auto* p = reinterpret_cast<const char*>(data_.data() + pos);
        return std::string(p, ::strnlen(p, max));
    }

  private:
    std::span<const uint8_t> data_;
    uint64_t base_;
    bool swap_;
    const std::string* name_;
};

struct DctxDeleter {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

struct SampleIdTrailer {
    bool has_time = false;
    bool has_cpu = false;
    uint64_t time = 0;
    uint32_t cpu = 0;
};

inline size_t trailer_size(const Attr& a) {
    if (!a.sample_id_all()) return 0;
    const uint64_t st = a.sample_type;
    size_t n = 0;
    for (uint64_t bit : {kTid, kTime, kId, kStreamId, kCpu, kIdentifier})
        if (st & bit) n += 8;
    return n;
}

class Decoder {
  public:
    Decoder(Recording& out, const std::string& name) : out_(out), name_(name) {}
    void read(std::span<const uint8_t> bytes);

  private:
    void read_file(const Bytes& all);
    Attr parse_attr(const Bytes& b) const;
    void add_attr(Attr a);
    const Attr* attr_by_id(uint64_t id) const;
    uint32_t sample_attr(const Bytes& rec) const;
    const Attr* side_attr(const Bytes& rec) const;
    SampleIdTrailer trailer(const Bytes& rec, const Attr* a, size_t body_end) const;
    void read_records(const Bytes& data);
    uint64_t record(const Bytes& rec);
    void sample(const Bytes& rec, uint16_t misc);
    static size_t read_size(const Bytes& rec, size_t pos, uint64_t rf);
    uint32_t callchain(const Bytes& rec, size_t pos, uint64_t nr, uint64_t ip, uint16_t misc);
    void mmap(const Bytes& rec, uint16_t misc, bool v2);
    void side_event(const Bytes& rec, SideKind kind, uint16_t misc);
    void add_side(SideEvent e, const Bytes& rec, const Attr* a, size_t body);
    void loss(const Bytes& rec, uint32_t type);
    void build_id(const Bytes& rec);
    std::string feature_string(const Bytes& b, size_t& pos) const;
    void read_feature(uint64_t feat, const Bytes& b);
    void event_desc(const Bytes& b);
    void decompress(const Bytes& rec, std::span<const uint8_t> in);
    void drain_pending(const Bytes& rec);

    Recording& out_;
    const std::string& name_;
    bool swap_ = false;
    uint64_t seq_ = 0;
    std::unordered_map<uint64_t, uint32_t> id_to_attr_;
    std::vector<uint64_t> kernel_, user_;  // callchain scratch
    std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx_;
    std::vector<uint8_t> out_buf_;
    std::vector<uint8_t> pending_;
};

}  // namespace kprof::perf::detail
