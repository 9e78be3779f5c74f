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
#include "trace/format.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "trace/crc32.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

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

std::string chunk_name(uint32_t type) {
    switch (static_cast<ChunkType>(type)) {
        case ChunkType::meta:
            return "metadata";
        case ChunkType::events:
            return "events";
        case ChunkType::losses:
            return "losses";
        case ChunkType::kernel_symbols:
            return "kernel symbols";
        case ChunkType::dsos:
            return "dsos";
        case ChunkType::mappings:
            return "mappings";
        case ChunkType::threads:
            return "threads";
        case ChunkType::stacks:
            return "stacks";
        case ChunkType::samples:
            return "samples";
        case ChunkType::index:
            return "index";
    }
    return "type " + std::to_string(type);
}

constexpr std::array<char, 4> kChunkMagic = {'K', 'C', 'H', 'K'};
constexpr std::array<char, 8> kTrailerMagic = {'K', 'P', 'R', 'O', 'F', 'E', 'N', 'D'};
constexpr size_t kFileHeaderSize = 16;
constexpr size_t kChunkHeaderSize = 32;
constexpr size_t kTrailerSize = 32;
// No chunk the writer makes comes near this; a larger claim is corruption.
constexpr uint64_t kMaxChunkRaw = 256ULL << 20;
// Bounded memory while recording: at most this many samples wait in the writer.
constexpr size_t kSamplesPerChunk = 65536;
constexpr size_t kStacksPerChunk = 65536;
constexpr size_t kStackIpsPerChunk = 1 << 20;
constexpr int kZstdLevel = 3;

void put_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_le64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_le32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
uint64_t get_le64(const uint8_t* p) {
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

void encode_meta(Encoder& e, const Profile& p) {
    const TraceMeta& m = p.meta;
    e.str(m.hostname);
    e.str(m.kernel_release);
    e.str(m.arch);
    e.str(m.command_line);
    e.str(m.target);
    e.str(m.kprof_version);
    e.str(m.source_format);
    e.varint(m.start_time_ns);
    e.varint(m.duration_ns);
    e.varint(m.first_sample_ns);
    e.varint(m.nr_cpus);
    e.svarint(m.exit_status);
    e.boolean(m.interrupted);
    e.boolean(m.kptr_restricted);
    e.f64(m.collector_cpu_seconds);
    e.varint(p.unresolved_frames);
}

void decode_meta(Decoder& d, TraceMeta& m, uint64_t& unresolved) {
    m.hostname = d.str();
    m.kernel_release = d.str();
    m.arch = d.str();
    m.command_line = d.str();
    m.target = d.str();
    m.kprof_version = d.str();
    m.source_format = d.str();
    m.start_time_ns = d.varint();
    m.duration_ns = d.varint();
    m.first_sample_ns = d.varint();
    m.nr_cpus = d.u32v("nr_cpus");
    const int64_t status = d.svarint();
    if (status < INT32_MIN || status > INT32_MAX) d.fail("exit status out of range");
    m.exit_status = static_cast<int32_t>(status);
    m.interrupted = d.boolean();
    m.kptr_restricted = d.boolean();
    m.collector_cpu_seconds = d.f64();
    unresolved = d.varint();
}

void encode_events(Encoder& e, const std::vector<EventDesc>& events) {
    e.varint(events.size());
    for (const EventDesc& ev : events) {
        e.str(ev.name);
        e.varint(ev.type);
        e.varint(ev.config);
        e.boolean(ev.use_freq);
        e.varint(ev.freq_or_period);
        e.varint(ev.samples);
    }
}

std::vector<EventDesc> decode_events(Decoder& d) {
    std::vector<EventDesc> events(d.count(6));
    if (events.size() > UINT16_MAX + 1ULL) d.fail("more events than sample event ids can name");
    for (EventDesc& ev : events) {
        ev.name = d.str();
        ev.type = d.u32v("event type");
        ev.config = d.varint();
        ev.use_freq = d.boolean();
        ev.freq_or_period = d.varint();
        ev.samples = d.varint();
    }
    return events;
}

void encode_losses(Encoder& e, const std::vector<CpuLoss>& losses) {
    e.varint(losses.size());
    for (const CpuLoss& l : losses) {
        e.varint(l.cpu);
        e.varint(l.lost_records);
        e.varint(l.lost_samples);
        e.varint(l.throttles);
        e.varint(l.unthrottles);
    }
}

std::vector<CpuLoss> decode_losses(Decoder& d) {
    std::vector<CpuLoss> losses(d.count(5));
    for (CpuLoss& l : losses) {
        l.cpu = d.u32v("cpu");
        l.lost_records = d.varint();
        l.lost_samples = d.varint();
        l.throttles = d.varint();
        l.unthrottles = d.varint();
    }
    return losses;
}

void encode_kernel_symbols(Encoder& e, const std::vector<KernelSymbol>& symbols) {
    e.varint(symbols.size());
    uint64_t prev = 0;
    for (const KernelSymbol& s : symbols) {
        e.svarint(static_cast<int64_t>(s.addr - prev));
        prev = s.addr;
        e.u8(static_cast<uint8_t>(s.type));
        e.str(s.name);
        e.str(s.module);
    }
}

std::vector<KernelSymbol> decode_kernel_symbols(Decoder& d) {
    std::vector<KernelSymbol> symbols(d.count(4));
    uint64_t prev = 0;
    for (KernelSymbol& s : symbols) {
        prev += static_cast<uint64_t>(d.svarint());
        s.addr = prev;
        s.type = static_cast<char>(d.u8());
        s.name = d.str();
        s.module = d.str();
    }
    return symbols;
}

void encode_dsos(Encoder& e, const std::vector<Dso>& dsos) {
    e.varint(dsos.size());
    for (const Dso& dso : dsos) {
        e.str(dso.path);
        e.str(dso.build_id);
        e.boolean(dso.deleted);
        e.boolean(dso.symbolized);
        e.varint(dso.symbols.size());
        uint64_t prev = 0;
        for (const DsoSymbol& s : dso.symbols) {
            e.svarint(static_cast<int64_t>(s.start - prev));
            prev = s.start;
            e.varint(s.size);
            e.str(s.name);
            e.str(s.file);
            e.varint(s.line);
        }
        e.varint(dso.sources.size());
        prev = 0;
        for (const DsoAddressSource& src : dso.sources) {
            e.svarint(static_cast<int64_t>(src.addr - prev));
            prev = src.addr;
            e.varint(src.frames.size());
            for (const DsoSourceFrame& f : src.frames) {
                e.str(f.function);
                e.str(f.file);
                e.varint(f.line);
            }
        }
    }
}

std::vector<Dso> decode_dsos(Decoder& d) {
    std::vector<Dso> dsos(d.count(5));
    for (Dso& dso : dsos) {
        dso.path = d.str();
        dso.build_id = d.str();
        dso.deleted = d.boolean();
        dso.symbolized = d.boolean();
        dso.symbols.resize(d.count(5));
        uint64_t prev = 0;
        for (DsoSymbol& s : dso.symbols) {
            prev += static_cast<uint64_t>(d.svarint());
            s.start = prev;
            s.size = d.varint();
            s.name = d.str();
            s.file = d.str();
            s.line = d.u32v("line");
        }
        dso.sources.resize(d.count(2));
        prev = 0;
        for (DsoAddressSource& src : dso.sources) {
            prev += static_cast<uint64_t>(d.svarint());
            src.addr = prev;
            src.frames.resize(d.count(3));
            for (DsoSourceFrame& f : src.frames) {
                f.function = d.str();
                f.file = d.str();
                f.line = d.u32v("line");
            }
        }
    }
    return dsos;
}

void encode_mappings(Encoder& e, const std::vector<Mapping>& mappings) {
    e.varint(mappings.size());
    for (const Mapping& m : mappings) {
        e.varint(m.pid);
        e.varint(m.generation);
        e.varint(m.start);
        e.varint(m.len);
        e.varint(m.pgoff);
        e.varint(m.time_ns);
        e.varint(m.dso == kNoDso ? 0 : uint64_t{m.dso} + 1);
    }
}

std::vector<Mapping> decode_mappings(Decoder& d) {
    std::vector<Mapping> mappings(d.count(7));
    for (Mapping& m : mappings) {
        m.pid = d.u32v("pid");
        m.generation = d.u32v("generation");
        m.start = d.varint();
        m.len = d.varint();
        m.pgoff = d.varint();
        m.time_ns = d.varint();
        const uint64_t dso = d.varint();
        if (dso > kNoDso) d.fail("dso id out of range");
        m.dso = dso == 0 ? kNoDso : static_cast<DsoId>(dso - 1);
    }
    return mappings;
}

void encode_threads(Encoder& e, const std::vector<Thread>& threads) {
    e.varint(threads.size());
    for (const Thread& t : threads) {
        e.varint(t.pid);
        e.varint(t.tid);
        e.varint(t.ppid);
        e.str(t.comm);
        e.varint(t.start_ns);
        e.varint(t.exit_ns);
    }
}

std::vector<Thread> decode_threads(Decoder& d) {
    std::vector<Thread> threads(d.count(6));
    for (Thread& t : threads) {
        t.pid = d.u32v("pid");
        t.tid = d.u32v("tid");
        t.ppid = d.u32v("ppid");
        t.comm = d.str();
        t.start_ns = d.varint();
        t.exit_ns = d.varint();
    }
    return threads;
}

void encode_stack(Encoder& e, const StackView& s) {
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

void encode_sample(Encoder& e, const Sample& s, uint64_t& prev_time) {
    e.svarint(static_cast<int64_t>(s.time_ns - prev_time));
    prev_time = s.time_ns;
    e.varint(s.period);
    e.varint(s.pid);
    e.varint(s.tid);
    e.varint(s.stack);
    e.varint(s.cpu);
    e.varint(s.event);
}

// ---- writer --------------------------------------------------------------------------

std::string io_error(const std::string& what, const std::string& path, int err) {
    if (err == ENOSPC || err == EDQUOT)
        return "no space left on device " + what + " " + path +
               "; the part written so far can be read with --recover";
    if (err == EIO)
        return "I/O error " + what + " " + path +
               " (failing disk or network file system); the part written so far can be read "
               "with --recover";
    return std::string("cannot ") + (what == "writing" ? "write" : what) + " " + path + ": " +
           std::strerror(err);
}

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    // Closes now and reports close()'s error (NFS reports write errors there).
    int close() {
        const int fd = std::exchange(fd_, -1);
        return fd >= 0 ? ::close(fd) : 0;
    }
    void adopt(int fd) {
        reset();
        fd_ = fd;
    }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

struct CCtxDeleter {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

}  // namespace

struct TraceWriter::Impl {
    std::string path;
    std::string temp;
    Fd fd;
    uint64_t offset = 0;
    std::vector<std::pair<uint64_t, uint32_t>> chunks;  // offset, type: the index
    std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx{ZSTD_createCCtx()};
    std::vector<uint8_t> compressed;

    std::vector<Sample> pending_samples;
    Encoder pending_stacks;
    size_t pending_stack_count = 0;
    size_t pending_stack_ips = 0;
    StackId first_pending_stack = 0;
    size_t stacks_taken = 0;  // stacks of the caller's table already encoded

    bool finished = false;
    bool failed = false;

    void check_usable() const {
        if (finished) throw Error("trace " + path + " is already finished");
        if (failed)
            throw Error("writing " + temp +
                        " failed earlier; the part written so far can be read "
                        "with --recover");
    }

    void write_all(const uint8_t* data, size_t size) {
        while (size > 0) {
            const ssize_t n = ::write(fd.get(), data, size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                failed = true;
                throw Error(io_error("writing", temp, n < 0 ? errno : ENOSPC));
            }
            data += n;
            size -= static_cast<size_t>(n);
            offset += static_cast<uint64_t>(n);
        }
    }

    void write_chunk(ChunkType type, const std::vector<uint8_t>& raw) {
        compressed.resize(ZSTD_compressBound(raw.size()));
        const size_t csize = ZSTD_compressCCtx(cctx.get(), compressed.data(), compressed.size(),
                                               raw.data(), raw.size(), kZstdLevel);
        if (ZSTD_isError(csize))
            throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(csize));
        uint8_t header[kChunkHeaderSize];
        std::memcpy(header, kChunkMagic.data(), 4);
        put_le32(header + 4, static_cast<uint32_t>(type));
        put_le64(header + 8, csize);
        put_le64(header + 16, raw.size());
        put_le32(header + 24, crc32(std::span<const uint8_t>(compressed.data(), csize)));
        put_le32(header + 28, crc32(std::span<const uint8_t>(header, 28)));
        chunks.emplace_back(offset, static_cast<uint32_t>(type));
        write_all(header, sizeof header);
        write_all(compressed.data(), csize);
    }

    void flush_stacks() {
        if (pending_stack_count == 0) return;
        Encoder head;
        head.varint(first_pending_stack);
        head.varint(pending_stack_count);
        std::vector<uint8_t> raw = head.bytes();
        raw.insert(raw.end(), pending_stacks.bytes().begin(), pending_stacks.bytes().end());
        write_chunk(ChunkType::stacks, raw);
        first_pending_stack += static_cast<StackId>(pending_stack_count);
        pending_stacks.clear();
        pending_stack_count = 0;
        pending_stack_ips = 0;
    }

    void flush_samples() {
        if (pending_samples.empty()) return;
        flush_stacks();  // the stacks these samples name go first
        Encoder e;
        e.varint(pending_samples.size());
        uint64_t prev_time = 0;
        for (const Sample& s : pending_samples) encode_sample(e, s, prev_time);
        write_chunk(ChunkType::samples, e.bytes());
        pending_samples.clear();
    }

    void write_metadata(const Profile& profile) {
        Encoder e;
        encode_meta(e, profile);
        write_chunk(ChunkType::meta, e.bytes());
        e.clear();
        encode_events(e, profile.events);
        write_chunk(ChunkType::events, e.bytes());
        e.clear();
        encode_kernel_symbols(e, profile.kernel_symbols);
        write_chunk(ChunkType::kernel_symbols, e.bytes());
    }
};

TraceWriter::TraceWriter(std::string path) : impl_(std::make_unique<Impl>()) {
    impl_->path = std::move(path);
    impl_->temp = impl_->path + ".tmp";
    if (!impl_->cctx) throw Error("out of memory creating a zstd context");
    // O_NOFOLLOW: a symlink planted at the temporary name must not redirect a root write.
    const int fd =
        ::open(impl_->temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        const int err = errno;
        throw Error("cannot create " + impl_->temp + ": " + std::strerror(err) +
                    (err == ELOOP ? " (it is a symbolic link; remove it)"
                                  : "; choose another output file with -o"));
    }
    impl_->fd.adopt(fd);
    // Traces reveal kernel addresses: 0600 whatever the umask or an older file's mode.
    if (::fchmod(fd, 0600) != 0)
        throw Error("cannot set mode 0600 on " + impl_->temp + ": " + std::strerror(errno));
    uint8_t header[kFileHeaderSize] = {};
    std::memcpy(header, kTraceMagic, 8);
    put_le32(header + 8, kTraceVersion);
    put_le32(header + 12, 0);
    impl_->write_all(header, sizeof header);
}

TraceWriter::~TraceWriter() {
    if (!impl_ || impl_->finished || impl_->failed) return;
    // Not finished (an exception unwound the recording): keep what we have readable.
    try {
        impl_->flush_samples();
        impl_->flush_stacks();
    } catch (...) {
    }
}

void TraceWriter::add_metadata(const Profile& profile) {
    impl_->check_usable();
    impl_->write_metadata(profile);
}

void TraceWriter::add_samples(std::span<const Sample> samples) {
    impl_->check_usable();
    while (!samples.empty()) {
        const size_t room = kSamplesPerChunk - impl_->pending_samples.size();
        const size_t n = std::min(room, samples.size());
        impl_->pending_samples.insert(impl_->pending_samples.end(), samples.begin(),
                                      samples.begin() + static_cast<ptrdiff_t>(n));
        samples = samples.subspan(n);
        if (impl_->pending_samples.size() >= kSamplesPerChunk) impl_->flush_samples();
    }
}

void TraceWriter::add_stacks(const StackTable& table) {
    impl_->check_usable();
    Impl& w = *impl_;
    for (; w.stacks_taken < table.size(); ++w.stacks_taken) {
        const StackView s = table.get(static_cast<StackId>(w.stacks_taken));
        encode_stack(w.pending_stacks, s);
        ++w.pending_stack_count;
        w.pending_stack_ips += s.ips.size();
        if (w.pending_stack_count >= kStacksPerChunk || w.pending_stack_ips >= kStackIpsPerChunk)
            w.flush_stacks();
    }
}

void TraceWriter::add_new_stacks(const StackTable& fresh) {
    impl_->check_usable();
    Impl& w = *impl_;
    for (StackId id = 0; id < fresh.size(); ++id) {
        const StackView s = fresh.get(id);
        encode_stack(w.pending_stacks, s);
        ++w.stacks_taken;
        ++w.pending_stack_count;
        w.pending_stack_ips += s.ips.size();
        if (w.pending_stack_count >= kStacksPerChunk || w.pending_stack_ips >= kStackIpsPerChunk)
            w.flush_stacks();
    }
}

void TraceWriter::sync() {
    impl_->check_usable();
    impl_->flush_samples();
    impl_->flush_stacks();
}

void TraceWriter::finish(const Profile& profile) {
    impl_->check_usable();
    Impl& w = *impl_;
    w.flush_samples();
    w.flush_stacks();
    w.write_metadata(profile);
    Encoder e;
    encode_losses(e, profile.losses);
    w.write_chunk(ChunkType::losses, e.bytes());
    e.clear();
    encode_dsos(e, profile.dsos);
    w.write_chunk(ChunkType::dsos, e.bytes());
    e.clear();
    encode_mappings(e, profile.mappings);
    w.write_chunk(ChunkType::mappings, e.bytes());
    e.clear();
    encode_threads(e, profile.threads);
    w.write_chunk(ChunkType::threads, e.bytes());

    e.clear();
    e.varint(w.chunks.size());
    for (auto [off, type] : w.chunks) {
        e.varint(off);
        e.varint(type);
    }
    const uint64_t index_offset = w.offset;
    w.write_chunk(ChunkType::index, e.bytes());

    uint8_t trailer[kTrailerSize] = {};
    std::memcpy(trailer, kTrailerMagic.data(), 8);
    put_le64(trailer + 8, w.chunks.size());
    put_le64(trailer + 16, index_offset);
    put_le32(trailer + 24, 0);
    put_le32(trailer + 28, crc32(std::span<const uint8_t>(trailer, 28)));
    w.write_all(trailer, sizeof trailer);

    if (::fsync(w.fd.get()) != 0 || w.fd.close() != 0) {
        w.failed = true;
        throw Error(io_error("syncing", w.temp, errno));
    }
    if (::rename(w.temp.c_str(), w.path.c_str()) != 0) {
        w.failed = true;
        throw Error("cannot rename " + w.temp + " to " + w.path + ": " + std::strerror(errno) +
                    "; the finished trace is in " + w.temp);
    }
    // Make the rename itself durable.
    const size_t slash = w.path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : w.path.substr(0, slash + 1);
    Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) ::fsync(dfd.get());
    w.finished = true;
}

const std::string& TraceWriter::temp_path() const {
    return impl_->temp;
}
uint64_t TraceWriter::bytes_written() const {
    return impl_->offset;
}

void write_trace(const std::string& path, const Profile& profile) {
    TraceWriter writer(path);
    writer.add_stacks(profile.stacks);
    writer.add_samples(profile.samples);
    writer.finish(profile);
}

// ---- reader --------------------------------------------------------------------------

namespace {

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
