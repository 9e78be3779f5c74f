// read_trace and read_trace_bytes: checks and decodes a .kprof file chunk by chunk, and
// with --recover keeps every complete chunk of an unfinished one.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "trace/codec.hpp"
#include "trace/crc32.hpp"
#include "trace/error.hpp"
#include "trace/fd.hpp"
#include "trace/format.hpp"

namespace kprof {
using namespace detail;
namespace {

struct DCtxDeleter {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

struct Trailer {
    uint64_t chunk_count = 0;
    uint64_t index_offset = 0;
};

std::optional<Trailer> parse_trailer(std::span<const uint8_t> bytes) {
    if (bytes.size() < kFileHeaderSize + kTrailerSize) return std::nullopt;
    const uint8_t* t = bytes.data() + bytes.size() - kTrailerSize;
    if (std::memcmp(t, kTrailerMagic.data(), 8) != 0) return std::nullopt;
    if (get_le32(t + 28) != crc32(std::span<const uint8_t>(t, 28))) return std::nullopt;
    if (get_le32(t + 24) != 0) return std::nullopt;
    return Trailer{get_le64(t + 8), get_le64(t + 16)};
}

class TraceReader {
  public:
    TraceReader(std::span<const uint8_t> bytes, const std::string& name, const ReadOptions& options)
        : bytes_(bytes), name_(name), options_(options) {}

    Profile read(ReadReport& report) {
        check_header();
        const std::optional<Trailer> trailer = parse_trailer(bytes_);
        const uint64_t end = trailer ? bytes_.size() - kTrailerSize : bytes_.size();
        reserve_samples(end);
        uint64_t offset = kFileHeaderSize;
        while (offset < end) {
            try {
                offset = read_chunk(offset, end);
            } catch (const TraceError& e) {
                if (!options_.recover) throw;
                report.bytes_discarded = bytes_.size() - offset;
                lost_reason_ = e.what();
                break;
            }
        }
        report.chunks_read = chunks_.size();
        report.finalized = trailer && lost_reason_.empty() && check_index(*trailer);
        if (!report.finalized && !options_.recover)
            throw TraceError(name_, bytes_.size(),
                             "no trailer: the recording did not finish (interrupted, killed or "
                             "out of space); read its complete chunks with --recover");
        finish_profile(report);
        return std::move(profile_);
    }

  private:
    // Walks the chunk headers (no decompression) to bound the sample count from the raw
    // sizes of the sample chunks, and reserves that once: growing a vector of millions of
    // samples by doubling copies them and holds both copies at the peak. Only the pages
    // really filled count in memory, so an over-estimate is cheap; capped so that lying
    // headers cannot make it absurd. Problems are left for read_chunk to report.
    void reserve_samples(uint64_t end) {
        uint64_t raw = 0;
        for (uint64_t offset = kFileHeaderSize; end - offset >= kChunkHeaderSize;) {
            const uint8_t* h = bytes_.data() + offset;
            if (std::memcmp(h, kChunkMagic.data(), 4) != 0) break;
            const uint64_t psize = get_le64(h + 8);
            if (psize > end - offset - kChunkHeaderSize) break;
            if (get_le32(h + 4) == static_cast<uint32_t>(ChunkType::samples))
                raw += std::min<uint64_t>(get_le64(h + 16), kMaxChunkRaw);
            offset += kChunkHeaderSize + psize;
        }
        const uint64_t estimate = std::min<uint64_t>(raw / 7, bytes_.size() * 4);
        if (estimate > 0) profile_.samples.reserve(std::min<uint64_t>(estimate, uint64_t{1} << 26));
    }

    void check_header() {
        if (bytes_.size() < kFileHeaderSize)
            throw TraceError(name_, bytes_.size(),
                             bytes_.empty() ? "empty file, not a kprof trace"
                                            : "file too short for a kprof trace header");
        if (std::memcmp(bytes_.data(), kTraceMagic, 8) != 0)
            throw TraceError(name_, 0, "not a kprof trace (bad magic)");
        const uint32_t version = get_le32(bytes_.data() + 8);
        if (version != kTraceVersion)
            throw TraceError(name_, 8,
                             "trace format version " + std::to_string(version) +
                                 " is not supported (this kprof reads version " +
                                 std::to_string(kTraceVersion) + "); use a matching kprof");
        if (get_le32(bytes_.data() + 12) != 0)
            throw TraceError(name_, 12, "unknown header flags (corrupt file or newer kprof)");
    }

    [[noreturn]] void fail(uint64_t offset, const std::string& what) const {
        throw TraceError(name_, offset, what);
    }

    uint64_t read_chunk(uint64_t offset, uint64_t end) {
        if (end - offset < kChunkHeaderSize)
            fail(offset,
                 "truncated chunk header (" + std::to_string(end - offset) + " of 32 bytes)");
        const uint8_t* h = bytes_.data() + offset;
        if (std::memcmp(h, kChunkMagic.data(), 4) != 0) fail(offset, "bad chunk magic");
        if (get_le32(h + 28) != crc32(std::span<const uint8_t>(h, 28)))
            fail(offset, "chunk header checksum mismatch (corrupt file)");
        const uint32_t type = get_le32(h + 4);
        const uint64_t psize = get_le64(h + 8);
        const uint64_t rsize = get_le64(h + 16);
        const uint64_t avail = end - offset - kChunkHeaderSize;
        if (psize > avail)
            fail(offset, "truncated " + chunk_name(type) + " chunk (" + std::to_string(psize) +
                             " payload bytes declared, " + std::to_string(avail) + " present)");
        if (rsize == 0 || rsize > kMaxChunkRaw)
            fail(offset, "absurd " + chunk_name(type) + " chunk size " + std::to_string(rsize));
        const std::span<const uint8_t> payload(h + kChunkHeaderSize, psize);
        if (get_le32(h + 24) != crc32(payload))
            fail(offset, chunk_name(type) + " chunk checksum mismatch (corrupt file)");
        const std::span<const uint8_t> raw = decompress(payload, rsize, offset, type);
        Decoder d(raw, name_, offset, type);
        decode(d, type, offset);
        chunks_.emplace_back(offset, type);
        return offset + kChunkHeaderSize + psize;
    }

    // Decompresses into a buffer reused by every chunk (valid until the next call): one
    // allocation per trace instead of one per chunk.
    std::span<const uint8_t> decompress(std::span<const uint8_t> payload, uint64_t raw_size,
                                        uint64_t offset, uint32_t type) {
        if (!dctx_) dctx_.reset(ZSTD_createDCtx());
        if (!dctx_) throw Error("out of memory creating a zstd context");
        ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
        // Grow the output as data really comes out, so a lying raw size costs no memory.
        std::vector<uint8_t>& out = raw_;
        const uint64_t initial = std::min<uint64_t>(raw_size, payload.size() * 8 + 65536);
        if (out.size() < initial) out.resize(initial);
        ZSTD_inBuffer in{payload.data(), payload.size(), 0};
        ZSTD_outBuffer ob{out.data(), std::min<uint64_t>(out.size(), raw_size), 0};
        const std::string what = chunk_name(type) + " chunk: ";
        for (;;) {
            const size_t ret = ZSTD_decompressStream(dctx_.get(), &ob, &in);
            if (ZSTD_isError(ret))
                fail(offset, what + "zstd: " + ZSTD_getErrorName(ret) + " (corrupt file)");
            if (ret == 0) break;
            if (ob.pos == ob.size) {
                if (ob.size >= raw_size) fail(offset, what + "more data than declared");
                out.resize(std::min<uint64_t>(raw_size, out.size() * 2));
                ob.dst = out.data();
                ob.size = std::min<uint64_t>(out.size(), raw_size);
            } else if (in.pos == in.size) {
                fail(offset, what + "truncated zstd frame");
            }
        }
        if (in.pos != in.size) fail(offset, what + "data after the zstd frame");
        if (ob.pos != raw_size)
            fail(offset,
                 what + std::to_string(ob.pos) + " bytes instead of " + std::to_string(raw_size));
        return std::span<const uint8_t>(out.data(), ob.pos);
    }

    // Each chunk decodes into temporaries first: a chunk is taken whole or not at all.
    void decode(Decoder& d, uint32_t type, uint64_t offset) {
        switch (static_cast<ChunkType>(type)) {
            case ChunkType::meta: {
                TraceMeta meta;
                uint64_t unresolved = 0;
                decode_meta(d, meta, unresolved);
                d.expect_end();
                profile_.meta = std::move(meta);
                profile_.unresolved_frames = unresolved;
                seen_meta_ = true;
                return;
            }
            case ChunkType::events: {
                auto events = decode_events(d);
                d.expect_end();
                profile_.events = std::move(events);
                seen_events_ = true;
                return;
            }
            case ChunkType::losses: {
                auto v = decode_losses(d);
                d.expect_end();
                profile_.losses = std::move(v);
                return;
            }
            case ChunkType::kernel_symbols: {
                auto v = decode_kernel_symbols(d);
                d.expect_end();
                profile_.kernel_symbols = std::move(v);
                seen_kallsyms_ = true;
                return;
            }
            case ChunkType::dsos: {
                auto v = decode_dsos(d);
                d.expect_end();
                profile_.dsos = std::move(v);
                dsos_offset_ = offset;
                return;
            }
            case ChunkType::mappings: {
                auto v = decode_mappings(d);
                d.expect_end();
                profile_.mappings = std::move(v);
                mappings_offset_ = offset;
                return;
            }
            case ChunkType::threads: {
                auto v = decode_threads(d);
                d.expect_end();
                profile_.threads = std::move(v);
                return;
            }
            case ChunkType::stacks:
                return decode_stacks(d);
            case ChunkType::samples:
                return decode_samples(d, offset);
            case ChunkType::index:
                return decode_index(d);
        }
        // A chunk type from a later version: skipped.
    }

    void decode_stacks(Decoder& d) {
        const uint64_t first = d.varint();
        if (first != profile_.stacks.size())
            d.fail("stack ids start at " + std::to_string(first) + ", expected " +
                   std::to_string(profile_.stacks.size()));
        const uint64_t n = d.count(4);  // an empty stack is 4 bytes
        if (n + first > UINT32_MAX) d.fail("too many stacks");
        std::vector<uint32_t> header;  // depth, kernel_depth, pid, generation per stack
        std::vector<uint64_t> ips;
        header.reserve(n * 4);
        for (uint64_t i = 0; i < n; ++i) {
            const uint32_t depth = d.u32v("depth");
            if (depth > kMaxStackDepth)
                d.fail("stack depth " + std::to_string(depth) + " beyond the limit of " +
                       std::to_string(kMaxStackDepth));
            if (depth > d.remaining()) d.fail("stack longer than the chunk");
            const uint32_t kernel_depth = d.u32v("kernel depth");
            if (kernel_depth > depth) d.fail("kernel depth beyond stack depth");
            header.push_back(depth);
            header.push_back(kernel_depth);
            header.push_back(d.u32v("pid"));
            header.push_back(d.u32v("generation"));
            uint64_t prev = 0;
            for (uint32_t k = 0; k < depth; ++k) {
                prev += static_cast<uint64_t>(d.svarint());
                ips.push_back(prev);
            }
        }
        d.expect_end();
        size_t pos = 0;
        for (uint64_t i = 0; i < n; ++i) {
            const uint32_t* h = header.data() + i * 4;
            profile_.stacks.append(std::span<const uint64_t>(ips.data() + pos, h[0]), h[1], h[2],
                                   h[3]);
            pos += h[0];
        }
    }

    // Decodes straight into profile_.samples (no per-chunk copy); a bad chunk is cut off
    // again, so a chunk is still taken whole or not at all.
    void decode_samples(Decoder& d, uint64_t offset) {
        std::vector<Sample>& all = profile_.samples;
        const size_t old_size = all.size();
        const uint64_t n = d.count(7);
        if (n == 0) return d.expect_end();
        if (all.capacity() < old_size + n) all.reserve(std::max(old_size + n, old_size * 2));
        all.resize(old_size + n);
        try {
            decode_sample_records(d, offset, std::span<Sample>(all.data() + old_size, n));
        } catch (...) {
            all.resize(old_size);
            throw;
        }
    }

    void decode_sample_records(Decoder& d, uint64_t offset, std::span<Sample> samples) {
        uint64_t prev_time = 0;
        uint32_t max_stack = 0;
        uint16_t max_event = 0;
        for (Sample& s : samples) {
            prev_time += static_cast<uint64_t>(d.svarint());
            s.time_ns = prev_time;
            s.period = d.varint();
            s.pid = d.u32v("pid");
            s.tid = d.u32v("tid");
            s.stack = d.u32v("stack id");
            s.cpu = d.u16v("cpu");
            s.event = d.u16v("event id");
            max_stack = std::max(max_stack, s.stack);
            max_event = std::max(max_event, s.event);
        }
        d.expect_end();
        // Stacks always precede their samples: check now, so a recovered file keeps only
        // samples it can show.
        if (max_stack >= profile_.stacks.size())
            d.fail("sample names stack " + std::to_string(max_stack) + " but only " +
                   std::to_string(profile_.stacks.size()) + " stacks precede it");
        sample_chunks_.push_back({offset, max_event});
    }

    void decode_index(Decoder& d) {
        std::vector<std::pair<uint64_t, uint32_t>> index(d.count(2));
        for (auto& [off, type] : index) {
            off = d.varint();
            type = d.u32v("chunk type");
        }
        d.expect_end();
        index_ = std::move(index);
    }

    bool check_index(const Trailer& t) {
        // The index lists every chunk before it; the trailer counts it too.
        if (chunks_.empty() || t.chunk_count != chunks_.size()) {
            index_problem_ = "the trailer counts " + std::to_string(t.chunk_count) +
                             " chunks, the file holds " + std::to_string(chunks_.size());
        } else if (chunks_.back().first != t.index_offset ||
                   chunks_.back().second != static_cast<uint32_t>(ChunkType::index)) {
            index_problem_ = "the trailer does not point at the index chunk";
        } else if (!std::equal(index_.begin(), index_.end(), chunks_.begin(), chunks_.end() - 1) ||
                   index_.size() + 1 != chunks_.size()) {
            index_problem_ = "the index does not match the chunks";
        }
        if (index_problem_.empty()) return true;
        if (!options_.recover)
            fail(t.index_offset, index_problem_ + " (corrupt file); try --recover");
        return false;
    }

    void finish_profile(ReadReport& report) {
        Profile& p = profile_;
        // Events: a recovered recording may have lost its event table.
        for (const SampleChunk& c : sample_chunks_) {
            if (c.max_event < p.events.size()) continue;
            if (!options_.recover || seen_events_)
                fail(c.offset, "sample names event " + std::to_string(c.max_event) + " but only " +
                                   std::to_string(p.events.size()) + " are described");
            while (p.events.size() <= c.max_event)
                p.events.push_back(EventDesc{.name = "event" + std::to_string(p.events.size())});
        }
        for (const Mapping& m : p.mappings)
            if (m.dso != kNoDso && m.dso >= p.dsos.size())
                fail(mappings_offset_, "mapping names dso " + std::to_string(m.dso) + " but only " +
                                           std::to_string(p.dsos.size()) + " exist");
        // Lookups binary-search these; a reordered file must not make them lie.
        auto by_addr = [](const KernelSymbol& a, const KernelSymbol& b) { return a.addr < b.addr; };
        if (!std::is_sorted(p.kernel_symbols.begin(), p.kernel_symbols.end(), by_addr))
            std::stable_sort(p.kernel_symbols.begin(), p.kernel_symbols.end(), by_addr);
        for (Dso& dso : p.dsos) {
            auto by_start = [](const DsoSymbol& a, const DsoSymbol& b) {
                return a.start < b.start;
            };
            if (!std::is_sorted(dso.symbols.begin(), dso.symbols.end(), by_start))
                std::stable_sort(dso.symbols.begin(), dso.symbols.end(), by_start);
            auto by_addr2 = [](const DsoAddressSource& a, const DsoAddressSource& b) {
                return a.addr < b.addr;
            };
            if (!std::is_sorted(dso.sources.begin(), dso.sources.end(), by_addr2))
                std::stable_sort(dso.sources.begin(), dso.sources.end(), by_addr2);
        }
        if (report.finalized) return;
        std::string note = "recovered " + std::to_string(report.chunks_read) +
                           " complete chunks (" + std::to_string(p.samples.size()) + " samples, " +
                           std::to_string(p.stacks.size()) + " stacks)";
        if (report.bytes_discarded > 0)
            note += "; the last " + std::to_string(report.bytes_discarded) +
                    " bytes were incomplete or corrupt and are lost (" + lost_reason_ + ")";
        if (!index_problem_.empty()) note += "; " + index_problem_;
        std::vector<std::string> missing;
        if (!seen_meta_) missing.push_back("metadata");
        if (!seen_events_) missing.push_back("event descriptions");
        if (!seen_kallsyms_) missing.push_back("kernel symbols (use --kallsyms)");
        if (dsos_offset_ == 0) missing.push_back("user symbols, mappings and threads");
        if (!missing.empty()) {
            note += "; missing because the recording did not finish: ";
            for (size_t i = 0; i < missing.size(); ++i) note += (i ? ", " : "") + missing[i];
        }
        report.note = note;
    }

    struct SampleChunk {
        uint64_t offset = 0;
        uint16_t max_event = 0;
    };

    std::span<const uint8_t> bytes_;
    const std::string& name_;
    ReadOptions options_;
    Profile profile_;
    std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx_;
    std::vector<uint8_t> raw_;  // decompressed payload of the current chunk
    std::vector<std::pair<uint64_t, uint32_t>> chunks_;
    std::vector<std::pair<uint64_t, uint32_t>> index_;
    std::vector<SampleChunk> sample_chunks_;
    std::string lost_reason_;
    std::string index_problem_;
    uint64_t dsos_offset_ = 0;
    uint64_t mappings_offset_ = 0;
    bool seen_meta_ = false;
    bool seen_events_ = false;
    bool seen_kallsyms_ = false;
};

// A read-only mapping of a whole file.
class MappedFile {
  public:
    explicit MappedFile(const std::string& path) {
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0)
            throw Error("cannot stat " + path + ": " + std::strerror(errno));
        if (!S_ISREG(st.st_mode)) throw Error(path + " is not a regular file");
        size_ = static_cast<size_t>(st.st_size);
        if (size_ == 0) return;
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (p == MAP_FAILED) throw Error("cannot map " + path + ": " + std::strerror(errno));
        data_ = static_cast<const uint8_t*>(p);
    }
    ~MappedFile() {
        if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::span<const uint8_t> bytes() const { return {data_, data_ ? size_ : 0}; }

  private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace

Profile read_trace_bytes(std::span<const uint8_t> bytes, const std::string& name,
                         const ReadOptions& options, ReadReport* report) {
    ReadReport local;
    TraceReader reader(bytes, name, options);
    Profile p = reader.read(report ? *report : local);
    return p;
}

Profile read_trace(const std::string& path, const ReadOptions& options, ReadReport* report) {
    const MappedFile file(path);
    return read_trace_bytes(file.bytes(), path, options, report);
}

}  // namespace kprof
