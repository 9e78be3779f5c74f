// TraceWriter and write_trace: streams a recording into a .kprof file (chunks written as
// they fill, then the tables, the index and the trailer; "<path>.tmp" renamed at the end).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "trace/codec.hpp"
#include "trace/crc32.hpp"
#include "trace/error.hpp"
#include "trace/fd.hpp"
#include "trace/format.hpp"

namespace kprof {
using namespace detail;
namespace {

// Bounded memory while recording: at most this many samples wait in the writer.
constexpr size_t kSamplesPerChunk = 65536;
constexpr size_t kStacksPerChunk = 65536;
constexpr size_t kStackIpsPerChunk = 1 << 20;
constexpr int kZstdLevel = 3;

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

struct CCtxDeleter {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
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

}  // namespace kprof
