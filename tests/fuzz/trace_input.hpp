// How fuzz_trace turns its input into .kprof bytes. Every chunk of a trace carries CRCs,
// which random mutations almost never keep right, so most inputs would stop at the first
// checksum; the first input byte chooses how far the target helps:
//   bit 0      read with ReadOptions::recover
//   bits 1..2  0, 3: the rest is a trace file, as is
//              1: the rest is a trace file whose chunk and trailer CRCs are recomputed
//              2: the rest is a list of chunks [u8 type][u16 LE raw size][raw payload],
//                 compressed and framed here, so the payload decoders see every mutation
//   bit 3      mode 2: end with an index chunk and a trailer (a finished trace)
// make_corpus.cpp writes seeds in each mode with the helpers below.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "trace/crc32.hpp"

namespace kprof::fuzz {

inline constexpr uint8_t kRecover = 1;
inline constexpr uint8_t kModeRaw = 0 << 1, kModeFixCrc = 1 << 1, kModeChunks = 2 << 1;
inline constexpr uint8_t kWithTrailer = 8;
inline constexpr uint32_t kIndexChunk = 10;

inline uint64_t le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
inline void put_le(std::vector<uint8_t>& out, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void set_le(uint8_t* p, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Mode 1: recompute every CRC the reader checks, walking the chunks as it does.
inline void fix_crcs(std::vector<uint8_t>& f) {
    size_t off = 16;
    while (f.size() - off >= 32 && off < f.size() && std::memcmp(&f[off], "KCHK", 4) == 0) {
        uint8_t* h = &f[off];
        const uint64_t avail = f.size() - off - 32;
        const uint64_t psize = std::min<uint64_t>(le(h + 8, 8), avail);
        set_le(h + 24, crc32(std::span<const uint8_t>(h + 32, psize)), 4);
        set_le(h + 28, crc32(std::span<const uint8_t>(h, 28)), 4);
        off += 32 + psize;
    }
    if (f.size() >= 48 && std::memcmp(&f[f.size() - 32], "KPROFEND", 8) == 0) {
        uint8_t* t = &f[f.size() - 32];
        set_le(t + 28, crc32(std::span<const uint8_t>(t, 28)), 4);
    }
}

inline void append_chunk(std::vector<uint8_t>& f, uint32_t type, std::span<const uint8_t> raw) {
    std::vector<uint8_t> z(ZSTD_compressBound(raw.size()));
    const size_t n = ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 1);
    z.resize(ZSTD_isError(n) ? 0 : n);
    const size_t at = f.size();
    f.insert(f.end(), {'K', 'C', 'H', 'K'});
    put_le(f, type, 4);
    put_le(f, z.size(), 8);
    put_le(f, raw.size(), 8);
    put_le(f, crc32(z), 4);
    put_le(f, crc32(std::span<const uint8_t>(&f[at], 28)), 4);
    f.insert(f.end(), z.begin(), z.end());
}

inline void put_varint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
}

// Mode 2: frames a list of raw chunks as a trace file.
inline std::vector<uint8_t> build_from_chunks(std::span<const uint8_t> in, bool trailer) {
    std::vector<uint8_t> f = {'K', 'P', 'R', 'O', 'F', 'T', 'R', 'C', 1, 0, 0, 0, 0, 0, 0, 0};
    std::vector<std::pair<uint64_t, uint32_t>> index;
    size_t pos = 0;
    while (in.size() - pos >= 3) {
        const uint32_t type = in[pos];
        const size_t n = std::min<size_t>(le(&in[pos + 1], 2), in.size() - pos - 3);
        index.emplace_back(f.size(), type);
        append_chunk(f, type, in.subspan(pos + 3, n));
        pos += 3 + n;
    }
    if (!trailer) return f;
    std::vector<uint8_t> raw;
    put_varint(raw, index.size());
    for (auto [off, type] : index) {
        put_varint(raw, off);
        put_varint(raw, type);
    }
    const uint64_t index_offset = f.size();
    append_chunk(f, kIndexChunk, raw);
    const size_t at = f.size();
    f.insert(f.end(), {'K', 'P', 'R', 'O', 'F', 'E', 'N', 'D'});
    put_le(f, index.size() + 1, 8);
    put_le(f, index_offset, 8);
    put_le(f, 0, 4);
    put_le(f, crc32(std::span<const uint8_t>(&f[at], 28)), 4);
    return f;
}

// The inverse of mode 2, for seeds: the raw chunks of a trace (index left out).
inline std::vector<uint8_t> chunks_of(std::span<const uint8_t> f) {
    std::vector<uint8_t> out;
    size_t off = 16;
    while (f.size() - off >= 32 && std::memcmp(&f[off], "KCHK", 4) == 0) {
        const uint8_t* h = &f[off];
        const uint32_t type = static_cast<uint32_t>(le(h + 4, 4));
        const uint64_t psize = le(h + 8, 8);
        const uint64_t rsize = le(h + 16, 8);
        std::vector<uint8_t> raw(rsize);
        ZSTD_decompress(raw.data(), raw.size(), h + 32, psize);
        if (type != kIndexChunk && rsize <= 0xffff) {
            out.push_back(static_cast<uint8_t>(type));
            put_le(out, rsize, 2);
            out.insert(out.end(), raw.begin(), raw.end());
        }
        off += 32 + psize;
    }
    return out;
}

}  // namespace kprof::fuzz
