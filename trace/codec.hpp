// Internal to the .kprof format (trace/writer.cpp, trace/reader.cpp): chunk types, the
// byte-level helpers, the payload Encoder and Decoder and the record encoding of each
// table. Not part of the trace API: include trace/format.hpp instead.
//
// The .kprof trace file. Layout (all integers little-endian; man/kprof.1 FILES says the same):
//
//   file header  16 bytes: "KPROFTRC", u32 version, u32 flags (0)
//   chunk*       32-byte header: "KCHK", u32 type, u64 payload size, u64 raw size,
//                u32 CRC-32 of the payload, u32 CRC-32 of the preceding 28 header bytes;
//                then the payload: one zstd frame holding `raw size` bytes of records
//   trailer      32 bytes: "KPROFEND", u64 chunk count (index included), u64 offset of
//                the index chunk, u32 0, u32 CRC-32 of the preceding 28 bytes
//
// Stack and sample chunks are streamed while recording (stacks always before the samples
// that use them); metadata, events, losses, kernel symbols, dsos, mappings and threads are
// written by finish(), then the index chunk (offset and type of every chunk) and the
// trailer. Inside a payload, integers are LEB128 varints (signed ones zigzag), strings a
// varint length and bytes, doubles 8 raw bytes. A chunk type a reader does not know is
// skipped, so later versions can add chunks without breaking old readers.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trace/error.hpp"
#include "trace/profile.hpp"

namespace kprof::detail {

enum class ChunkType : uint32_t {
    meta = 1,
    events = 2,
    losses = 3,
    kernel_symbols = 4,
    dsos = 5,
    mappings = 6,
    threads = 7,
    stacks = 8,
    samples = 9,
    index = 10,
};

std::string chunk_name(uint32_t type);

inline constexpr std::array<char, 4> kChunkMagic = {'K', 'C', 'H', 'K'};
inline constexpr std::array<char, 8> kTrailerMagic = {'K', 'P', 'R', 'O', 'F', 'E', 'N', 'D'};
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kChunkHeaderSize = 32;
inline constexpr size_t kTrailerSize = 32;
// No chunk the writer makes comes near this; a larger claim is corruption.
inline constexpr uint64_t kMaxChunkRaw = 256ULL << 20;

inline void put_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put_le64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t get_le32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
inline uint64_t get_le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

class Encoder {
  public:
    void u8(uint8_t v) { buf_.push_back(v); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            buf_.push_back(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        buf_.push_back(static_cast<uint8_t>(v));
    }
    void svarint(int64_t v) {
        varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
    }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void str(std::string_view s) {
        varint(s.size());
        buf_.insert(buf_.end(), s.begin(), s.end());
    }
    void f64(double d) {
        uint8_t b[8];
        put_le64(b, std::bit_cast<uint64_t>(d));
        buf_.insert(buf_.end(), b, b + 8);
    }
    const std::vector<uint8_t>& bytes() const { return buf_; }
    size_t size() const { return buf_.size(); }
    void clear() { buf_.clear(); }

  private:
    std::vector<uint8_t> buf_;
};

// Reads one decompressed payload; every failure names the chunk's file offset.
class Decoder {
  public:
    Decoder(std::span<const uint8_t> bytes, const std::string& file, uint64_t chunk_offset,
            uint32_t type)
        : bytes_(bytes), file_(file), chunk_offset_(chunk_offset), type_(type) {}

    [[noreturn, gnu::cold, gnu::noinline]] void fail(const std::string& what) const {
        throw TraceError(file_, chunk_offset_,
                         "malformed " + chunk_name(type_) + " chunk (" + what + ", payload byte " +
                             std::to_string(pos_) + ")");
    }
    size_t remaining() const { return bytes_.size() - pos_; }
    bool done() const { return pos_ == bytes_.size(); }

    uint8_t u8() {
        if (pos_ >= bytes_.size()) fail("unexpected end");
        return bytes_[pos_++];
    }
    // Inline fast path: most fields of a sample chunk are one-byte varints, and the
    // decoder runs tens of millions of times per trace.
    uint64_t varint() {
        if (pos_ < bytes_.size() && bytes_[pos_] < 0x80) [[likely]]
            return bytes_[pos_++];
        return varint_slow();
    }
    [[gnu::noinline]] uint64_t varint_slow() {
        if (bytes_.size() - pos_ >= 10) {  // no bounds check per byte
            const uint8_t* p = bytes_.data() + pos_;
            uint64_t v = 0;
            for (int i = 0; i < 10; ++i) {
                const uint8_t b = p[i];
                if (i == 9 && b > 1) fail("varint overflows 64 bits");
                v |= uint64_t{b & 0x7fu} << (7 * i);
                if (!(b & 0x80)) {
                    pos_ += static_cast<size_t>(i) + 1;
                    return v;
                }
            }
            fail("varint longer than 10 bytes");
        }
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t b = u8();
            if (shift == 63 && b > 1) fail("varint overflows 64 bits");
            v |= uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint longer than 10 bytes");
    }
    int64_t svarint() {
        const uint64_t z = varint();
        return static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
    }
    uint32_t u32v(const char* what) {
        const uint64_t v = varint();
        if (v > UINT32_MAX) fail(std::string(what) + " out of range");
        return static_cast<uint32_t>(v);
    }
    uint16_t u16v(const char* what) {
        const uint64_t v = varint();
        if (v > UINT16_MAX) fail(std::string(what) + " out of range");
        return static_cast<uint16_t>(v);
    }
    bool boolean() {
        const uint8_t b = u8();
        if (b > 1) fail("boolean is neither 0 nor 1");
        return b == 1;
    }
    std::string str() {
        const uint64_t n = varint();
        if (n > remaining()) fail("string longer than the chunk");
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    double f64() {
        if (remaining() < 8) fail("unexpected end");
        const uint64_t v = get_le64(bytes_.data() + pos_);
        pos_ += 8;
        return std::bit_cast<double>(v);
    }
    // A count of records each at least `min_bytes` long: bounded by what is left, so an
    // absurd count fails here instead of in an allocation.
    uint64_t count(size_t min_bytes) {
        const uint64_t n = varint();
        if (n > remaining() / min_bytes) fail("count " + std::to_string(n) + " exceeds the chunk");
        return n;
    }
    void expect_end() {
        if (!done()) fail(std::to_string(remaining()) + " trailing bytes");
    }

  private:
    std::span<const uint8_t> bytes_;
    const std::string& file_;
    uint64_t chunk_offset_;
    uint32_t type_;
    size_t pos_ = 0;
};

// ---- record encodings ----------------------------------------------------------------

void encode_meta(Encoder& e, const Profile& p);
void decode_meta(Decoder& d, TraceMeta& m, uint64_t& unresolved);
void encode_events(Encoder& e, const std::vector<EventDesc>& events);
std::vector<EventDesc> decode_events(Decoder& d);
void encode_losses(Encoder& e, const std::vector<CpuLoss>& losses);
std::vector<CpuLoss> decode_losses(Decoder& d);
void encode_kernel_symbols(Encoder& e, const std::vector<KernelSymbol>& symbols);
std::vector<KernelSymbol> decode_kernel_symbols(Decoder& d);
void encode_dsos(Encoder& e, const std::vector<Dso>& dsos);
std::vector<Dso> decode_dsos(Decoder& d);
void encode_mappings(Encoder& e, const std::vector<Mapping>& mappings);
std::vector<Mapping> decode_mappings(Decoder& d);
void encode_threads(Encoder& e, const std::vector<Thread>& threads);
std::vector<Thread> decode_threads(Decoder& d);

// Inline: the writer encodes every stack and sample through these.
inline void encode_stack(Encoder& e, const StackView& s) {
    e.varint(s.ips.size());
    e.varint(s.kernel_depth);
    e.varint(s.pid);
    e.varint(s.generation);
    uint64_t prev = 0;
    for (uint64_t ip : s.ips) {
        e.svarint(static_cast<int64_t>(ip - prev));
        prev = ip;
    }
}

inline void encode_sample(Encoder& e, const Sample& s, uint64_t& prev_time) {
    e.svarint(static_cast<int64_t>(s.time_ns - prev_time));
    prev_time = s.time_ns;
    e.varint(s.period);
    e.varint(s.pid);
    e.varint(s.tid);
    e.varint(s.stack);
    e.varint(s.cpu);
    e.varint(s.event);
}

}  // namespace kprof::detail
