#include "import/perf_reader.hpp"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>

#include "trace/error.hpp"

namespace kprof::perf {
namespace {

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

uint64_t to_u64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

uint8_t reverse_bits(uint8_t b) {
    b = static_cast<uint8_t>((b & 0xF0) >> 4 | (b & 0x0F) << 4);
    b = static_cast<uint8_t>((b & 0xCC) >> 2 | (b & 0x33) << 2);
    b = static_cast<uint8_t>((b & 0xAA) >> 1 | (b & 0x55) << 1);
    return b;
}

std::string hex(std::span<const uint8_t> b) {
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

size_t trailer_size(const Attr& a) {
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

    void read(std::span<const uint8_t> bytes) {
        if (bytes.size() < 8 || !is_perf_magic(bytes))
            throw TraceError(name_, 0, "not a perf.data file (no PERFILE2 magic)");
        swap_ = bytes[0] == '2';
        out_.swapped = swap_;
        const Bytes all(bytes, 0, swap_, &name_);
        const uint64_t header_size = all.u64(8);
        if (header_size == kPipeHeaderSize) {
            out_.pipe_mode = true;
            read_records(all.slice(kPipeHeaderSize, all.size() - kPipeHeaderSize));
            return;
        }
        if (header_size < kFileHeaderSize)
            all.fail(8, "unsupported perf.data header size " + std::to_string(header_size));
        read_file(all);
    }

  private:
    void read_file(const Bytes& all) {
        all.need(0, kFileHeaderSize, "perf.data header");
        const uint64_t attr_size = all.u64(16);
        const uint64_t attrs_off = all.u64(24), attrs_len = all.u64(32);
        const uint64_t data_off = all.u64(40);
        uint64_t data_len = all.u64(48);
        std::array<uint64_t, 4> features{};
        for (size_t i = 0; i < 4; ++i) features[i] = all.u64(72 + 8 * i);

        // perf writes the attrs section before the data and fixes the header last; an
        // interrupted perf leaves data size 0: read what is there.
        if (data_len == 0 && data_off < all.size()) data_len = all.size() - data_off;
        if (attr_size < 16 + kAttrVer0Size || attr_size > 4096)
            all.fail(16, "bad perf_file_attr size " + std::to_string(attr_size));
        const Bytes attrs = all.slice(attrs_off, attrs_len);
        const uint64_t nattrs = attrs_len / attr_size;
        if (nattrs > kMaxAttrs) all.fail(24, "too many attrs");
        for (uint64_t i = 0; i < nattrs; ++i) {
            const Bytes entry = attrs.slice(i * attr_size, attr_size);
            Attr a = parse_attr(entry.slice(0, attr_size - 16));
            const uint64_t ids_off = entry.u64(attr_size - 16);
            const uint64_t ids_len = entry.u64(attr_size - 8);
            const Bytes ids = all.slice(ids_off, ids_len);
            for (uint64_t j = 0; j + 8 <= ids_len; j += 8) a.ids.push_back(ids.u64(j));
            add_attr(std::move(a));
        }
        if (out_.attrs.empty()) all.fail(24, "perf.data holds no event attributes");

        read_records(all.slice(data_off, data_len));

        // Feature sections: one perf_file_section per set bit, right after the data.
        uint64_t pos = data_off + data_len;
        for (uint32_t feat = 1; feat < kFeatLast; ++feat) {
            if (!((features[feat / 64] >> (feat % 64)) & 1)) continue;
            if (pos + 16 > all.size()) break;  // header says more than the file holds
            const uint64_t off = all.u64(pos), len = all.u64(pos + 8);
            pos += 16;
            if (off > all.size() || len > all.size() - off) continue;  // a bad section only
            read_feature(feat, all.slice(off, len));
        }
    }

    Attr parse_attr(const Bytes& b) const {
        b.need(0, 8, "perf_event_attr");
        Attr a;
        a.type = b.u32(0);
        a.size = b.u32(4);
        if (a.size == 0) a.size = kAttrVer0Size;
        const size_t n = std::min<size_t>(a.size, b.size());
        auto get = [&](size_t off) -> uint64_t { return off + 8 <= n ? b.u64(off) : 0; };
        a.config = get(8);
        a.sample_period = get(16);
        a.sample_type = get(24);
        a.read_format = get(32);
        if (n >= 48) {
            // Bitfields: the writer's compiler laid them out from the other end of each
            // byte on a big-endian machine (perf's swap_bitfield()).
            std::array<uint8_t, 8> raw;
            std::memcpy(raw.data(), b.raw(40, 8).data(), 8);
            if (b.swap())
                for (uint8_t& c : raw) c = reverse_bits(c);
            a.flags = to_u64(raw.data());
        }
        a.branch_sample_type = get(72);
        a.sample_regs_user = get(80);
        a.sample_regs_intr = get(96);
        return a;
    }

    void add_attr(Attr a) {
        const auto index = static_cast<uint32_t>(out_.attrs.size());
        for (uint64_t id : a.ids) id_to_attr_.emplace(id, index);
        out_.attrs.push_back(std::move(a));
    }

    // Which attr a record belongs to, when there are several: by its sample id, found
    // where every attr puts it (perf requires the same position for all of them).
    const Attr* attr_by_id(uint64_t id) const {
        auto it = id_to_attr_.find(id);
        return it == id_to_attr_.end() ? &out_.attrs[0] : &out_.attrs[it->second];
    }

    uint32_t sample_attr(const Bytes& rec) const {
        if (out_.attrs.size() == 1) return 0;
        const uint64_t st = out_.attrs[0].sample_type;
        size_t pos = 8;
        if (!(st & kIdentifier)) {
            if (!(st & kId)) return 0;
            for (uint64_t bit : {kIp, kTid, kTime, kAddr})
                if (st & bit) pos += 8;
        }
        return static_cast<uint32_t>(attr_by_id(rec.u64(pos)) - out_.attrs.data());
    }

    const Attr* side_attr(const Bytes& rec) const {
        if (out_.attrs.empty()) return nullptr;
        const Attr& first = out_.attrs[0];
        if (out_.attrs.size() == 1 || !first.sample_id_all()) return &first;
        const uint64_t st = first.sample_type;
        size_t from_end = 8;
        if (!(st & kIdentifier)) {
            if (!(st & kId)) return &first;
            if (st & kCpu) from_end += 8;
            if (st & kStreamId) from_end += 8;
        }
        if (rec.size() < 8 + from_end) return &first;
        return attr_by_id(rec.u64(rec.size() - from_end));
    }

    SampleIdTrailer trailer(const Bytes& rec, const Attr* a, size_t body_end) const {
        SampleIdTrailer t;
        if (!a || !a->sample_id_all()) return t;
        const size_t n = trailer_size(*a);
        if (rec.size() < body_end + n) rec.fail(rec.size(), "record too short for its sample id");
        size_t pos = rec.size() - n;
        const uint64_t st = a->sample_type;
        if (st & kTid) pos += 8;
        if (st & kTime) {
            t.has_time = true;
            t.time = rec.u64(pos);
            pos += 8;
        }
        if (st & kId) pos += 8;
        if (st & kStreamId) pos += 8;
        if (st & kCpu) {
            t.has_cpu = true;
            t.cpu = rec.u32(pos);
        }
        return t;
    }

    void read_records(const Bytes& data) {
        size_t pos = 0;
        while (pos + 8 <= data.size()) {
            const uint16_t size = data.u16(pos + 6);
            if (size < 8) data.fail(pos, "perf record of size " + std::to_string(size));
            const Bytes rec = data.slice(pos, size);
            pos += size;
            pos += record(rec);
        }
        if (pos < data.size()) data.fail(pos, "truncated perf record");
    }

    // Decodes one record; returns how many bytes of payload follow it outside its size.
    uint64_t record(const Bytes& rec) {
        ++out_.records;
        ++seq_;
        const uint32_t type = rec.u32(0);
        const uint16_t misc = rec.u16(4);
        switch (type) {
            case kSample:
                sample(rec, misc);
                return 0;
            case kMmap:
            case kMmap2:
                mmap(rec, misc, type == kMmap2);
                return 0;
            case kComm:
                side_event(rec, SideKind::comm, misc);
                return 0;
            case kFork:
                side_event(rec, SideKind::fork, misc);
                return 0;
            case kExit:
                side_event(rec, SideKind::exit, misc);
                return 0;
            case kLost:
            case kLostSamples:
            case kThrottle:
            case kUnthrottle:
                loss(rec, type);
                return 0;
            case kHeaderAttr: {
                Attr a = parse_attr(rec.slice(8, rec.size() - 8));
                if (a.size > rec.size() - 8) rec.fail(8, "HEADER_ATTR larger than its record");
                for (size_t p = 8 + a.size; p + 8 <= rec.size(); p += 8)
                    a.ids.push_back(rec.u64(p));
                if (out_.attrs.size() >= kMaxAttrs) rec.fail(0, "too many attrs");
                add_attr(std::move(a));
                return 0;
            }
            case kHeaderFeature:
                read_feature(rec.u64(8), rec.slice(16, rec.size() - 16));
                return 0;
            case kEventUpdate:
                if (rec.u64(8) == kEventUpdateName)
                    out_.id_names[rec.u64(16)] = rec.str(24, rec.size() - 24);
                return 0;
            case kHeaderBuildId:
                build_id(rec);
                return 0;
            case kHeaderTracingData:  // pipe mode: tracing data follows the record
                return rec.u32(8);
            case kAuxtrace:  // the aux area data follows the record
                return rec.u64(8);
            case kCompressed:
                decompress(rec, rec.raw(8, rec.size() - 8));
                return 0;
            case kCompressed2: {
                const uint64_t n = rec.u64(8);
                if (n > rec.size() - 16) rec.fail(8, "COMPRESSED2 data larger than its record");
                decompress(rec, rec.raw(16, n));
                return 0;
            }
            default:
                // FINISHED_ROUND, ID_INDEX, THREAD_MAP, CPU_MAP, KSYMBOL, ... and types
                // newer than this reader: nothing kprof needs, skipped by size.
                if (type == 0 || (type > 22 && type < 64) || type > 86) ++out_.unknown_records;
                return 0;
        }
    }

    void sample(const Bytes& rec, uint16_t misc) {
        if (out_.attrs.empty()) rec.fail(0, "sample before any event attribute");
        RawSample s;
        s.seq = seq_;
        s.attr = sample_attr(rec);
        const Attr& a = out_.attrs[s.attr];
        const uint64_t st = a.sample_type;
        size_t pos = 8;
        uint64_t ip = 0;
        bool has_time = false;
        auto next = [&] {
            const uint64_t v = rec.u64(pos);
            pos += 8;
            return v;
        };
        if (st & kIdentifier) pos += 8;
        if (st & kIp) ip = next();
        if (st & kTid) {
            s.pid = rec.u32(pos);
            s.tid = rec.u32(pos + 4);
            pos += 8;
        }
        if (st & kTime) {
            s.time = next();
            has_time = true;
        }
        if (st & kAddr) pos += 8;
        if (st & kId) pos += 8;
        if (st & kStreamId) pos += 8;
        if (st & kCpu) {
            s.cpu = rec.u32(pos);
            pos += 8;
        }
        s.period =
            (st & kPeriod) ? next() : (a.freq() || a.sample_period == 0 ? 1 : a.sample_period);
        if (st & kRead) pos += read_size(rec, pos, a.read_format);

        const size_t ips_start = out_.ips.size();
        uint32_t kernel = 0;
        if (st & kCallchain) {
            const uint64_t nr = next();
            if (nr > (rec.size() - pos) / 8) rec.fail(pos - 8, "callchain longer than its record");
            kernel = callchain(rec, pos, nr, ip, misc);
            pos += nr * 8;
        }
        if (out_.ips.size() == ips_start) {
            // No callchain: the sampled ip alone is the stack.
            out_.ips.push_back(ip);
            kernel = (misc & kMiscCpumodeMask) == kMiscKernel || ip >= kKernelAddressStart;
        }
        if (st & kRaw) {
            const uint32_t n = rec.u32(pos);
            rec.need(pos + 4, n, "raw sample data");
            pos += 4 + n;
        }
        if (st & kBranchStack) {
            const uint64_t nr = next();
            if (a.branch_sample_type & kBranchHwIndex) pos += 8;
            const uint64_t per = 24 + ((a.branch_sample_type & kBranchCounters) ? 8 : 0);
            if (nr > rec.size() / per) rec.fail(pos, "branch stack longer than its record");
            rec.need(pos, nr * per, "branch stack");
        }
        // REGS_USER, STACK_USER and later fields are not needed: the record size bounds them.
        s.ips_offset = ips_start;
        s.depth = static_cast<uint32_t>(out_.ips.size() - ips_start);
        s.kernel_depth = kernel;
        if (!has_time) out_.all_timed = false;
        out_.samples.push_back(s);
    }

    static size_t read_size(const Bytes& rec, size_t pos, uint64_t rf) {
        const size_t extra =
            ((rf & kTotalTimeEnabled) ? 8 : 0) + ((rf & kTotalTimeRunning) ? 8 : 0);
        const size_t per = 8 + ((rf & kFormatId) ? 8 : 0) + ((rf & kFormatLost) ? 8 : 0);
        if (!(rf & kGroup)) {
            rec.need(pos, per + extra, "read values");
            return per + extra;
        }
        const uint64_t nr = rec.u64(pos);
        if (nr > rec.size() / per) rec.fail(pos, "read group larger than its record");
        rec.need(pos, 8 + extra + nr * per, "read group");
        return 8 + extra + nr * per;
    }

    // Appends the callchain's frames, kernel ones first, and returns how many are kernel.
    uint32_t callchain(const Bytes& rec, size_t pos, uint64_t nr, uint64_t ip, uint16_t misc) {
        kernel_.clear();
        user_.clear();
        enum class Ctx { unknown, kernel, user, skip } ctx = Ctx::unknown;
        for (uint64_t i = 0; i < nr; ++i) {
            const uint64_t v = rec.u64(pos + i * 8);
            if (v >= kContextMax) {
                ctx = v == kContextKernel ? Ctx::kernel : v == kContextUser ? Ctx::user : Ctx::skip;
                if (v == kContextHv) ctx = Ctx::skip;
                continue;
            }
            if (ctx == Ctx::skip) continue;  // hypervisor and guest frames
            const bool is_kernel =
                ctx == Ctx::kernel || (ctx == Ctx::unknown && v >= kKernelAddressStart);
            (is_kernel ? kernel_ : user_).push_back(v);
        }
        if (kernel_.empty() && user_.empty()) return 0;
        // perf attributes a sample's self time to its ip; the chain starts with it except
        // when the kernel could not unwind (then the ip goes in front).
        const std::vector<uint64_t>& leaf_side = kernel_.empty() ? user_ : kernel_;
        if (ip != 0 && leaf_side.front() != ip) {
            const bool ip_kernel =
                (misc & kMiscCpumodeMask) == kMiscKernel || ip >= kKernelAddressStart;
            auto& v = ip_kernel ? kernel_ : user_;
            v.insert(v.begin(), ip);
        }
        size_t total = kernel_.size() + user_.size();
        if (total > kMaxStackDepth) {
            ++out_.truncated_stacks;
            // Keep the leaf end: that is where self time goes.
            if (kernel_.size() >= kMaxStackDepth) {
                kernel_.resize(kMaxStackDepth);
                user_.clear();
            } else {
                user_.resize(kMaxStackDepth - kernel_.size());
            }
        }
        out_.ips.insert(out_.ips.end(), kernel_.begin(), kernel_.end());
        out_.ips.insert(out_.ips.end(), user_.begin(), user_.end());
        return static_cast<uint32_t>(kernel_.size());
    }

    void mmap(const Bytes& rec, uint16_t misc, bool v2) {
        const Attr* a = side_attr(rec);
        const size_t name_off = v2 ? 72 : 40;
        rec.need(0, name_off, "MMAP record");
        const size_t tsize = a ? trailer_size(*a) : 0;
        SideEvent e;
        e.kind = SideKind::mmap;
        e.pid = rec.u32(8);
        e.tid = rec.u32(12);
        e.addr = rec.u64(16);
        e.len = rec.u64(24);
        e.pgoff = rec.u64(32);
        e.name =
            rec.str(name_off, rec.size() > name_off + tsize ? rec.size() - name_off - tsize : 0);
        if (v2 && (misc & kMiscMmapBuildId)) {
            const uint8_t n = std::min<uint8_t>(rec.raw(40, 1)[0], 20);
            e.build_id = hex(rec.raw(44, n));
        }
        if (e.pid == UINT32_MAX) {
            // Kernel image and modules: resolved through kallsyms, not mappings. The
            // image's pgoff is _text's address at record time (KASLR).
            if (e.name.starts_with("[kernel.kallsyms]")) out_.kernel_text_addr = e.pgoff;
            return;
        }
        add_side(std::move(e), rec, a, name_off);
    }

    void side_event(const Bytes& rec, SideKind kind, uint16_t misc) {
        const Attr* a = side_attr(rec);
        SideEvent e;
        e.kind = kind;
        size_t body = 16;
        if (kind == SideKind::comm) {
            e.pid = rec.u32(8);
            e.tid = rec.u32(12);
            e.exec = misc & kMiscCommExec;
            const size_t tsize = a ? trailer_size(*a) : 0;
            e.name = rec.str(16, rec.size() > 16 + tsize ? rec.size() - 16 - tsize : 0);
        } else {
            e.pid = rec.u32(8);
            e.ppid = rec.u32(12);
            e.tid = rec.u32(16);
            e.ptid = rec.u32(20);
            e.time = rec.u64(24);
            body = 32;
        }
        add_side(std::move(e), rec, a, body);
    }

    void add_side(SideEvent e, const Bytes& rec, const Attr* a, size_t body) {
        const SampleIdTrailer t = trailer(rec, a, body);
        e.seq = seq_;
        if (t.has_time) {
            e.time = t.time;
            e.has_time = true;
        } else if (e.kind == SideKind::fork || e.kind == SideKind::exit) {
            e.has_time = true;  // the record's own time field
        } else {
            out_.all_timed = false;
        }
        out_.side.push_back(std::move(e));
    }

    void loss(const Bytes& rec, uint32_t type) {
        const Attr* a = side_attr(rec);
        const size_t body = type == kLostSamples ? 16 : type == kLost ? 24 : 32;
        rec.need(0, body, "loss record");
        const SampleIdTrailer t = trailer(rec, a, body);
        CpuLoss& l = out_.losses[t.cpu];
        l.cpu = t.cpu;
        switch (type) {
            case kLost:
                l.lost_records += rec.u64(16);
                break;
            case kLostSamples:
                l.lost_samples += rec.u64(8);
                break;
            case kThrottle:
                ++l.throttles;
                break;
            default:
                ++l.unthrottles;
        }
    }

    void build_id(const Bytes& rec) {
        // perf_record_header_build_id: header, pid, build_id[24] (20 + size + pad), name.
        rec.need(0, 36, "build id record");
        const uint16_t misc = rec.u16(4);
        size_t n = 20;
        if (misc & kMiscBuildIdSize) n = std::min<size_t>(rec.raw(32, 1)[0], 20);
        std::string id = hex(rec.raw(12, n));
        std::string file = rec.str(36, rec.size() - 36);
        if (!file.empty()) out_.build_ids.emplace_back(std::move(file), std::move(id));
    }

    std::string feature_string(const Bytes& b, size_t& pos) const {
        const uint32_t len = b.u32(pos);
        b.need(pos + 4, len, "feature string");
        std::string s = b.str(pos + 4, len);
        pos += 4 + len;
        return s;
    }

    void read_feature(uint64_t feat, const Bytes& b) {
        size_t pos = 0;
        switch (feat) {
            case kFeatHostname:
                out_.hostname = feature_string(b, pos);
                break;
            case kFeatOsrelease:
                out_.osrelease = feature_string(b, pos);
                break;
            case kFeatVersion:
                out_.perf_version = feature_string(b, pos);
                break;
            case kFeatArch:
                out_.arch = feature_string(b, pos);
                break;
            case kFeatNrcpus:
                out_.nr_cpus_avail = b.u32(0);
                out_.nr_cpus_online = b.u32(4);
                break;
            case kFeatCmdline: {
                const uint32_t nr = b.u32(0);
                pos = 4;
                if (nr > b.size() / 4) b.fail(0, "CMDLINE count larger than its section");
                out_.cmdline.clear();
                for (uint32_t i = 0; i < nr; ++i) out_.cmdline.push_back(feature_string(b, pos));
                break;
            }
            case kFeatEventDesc:
                event_desc(b);
                break;
            case kFeatBuildId:
                while (pos + 8 <= b.size()) {
                    const uint16_t size = b.u16(pos + 6);
                    if (size < 8) b.fail(pos, "build id entry of size " + std::to_string(size));
                    build_id(b.slice(pos, size));
                    pos += size;
                }
                break;
            case kFeatClockData:
                if (b.size() >= 24) {
                    out_.has_clock_data = true;
                    out_.clock_wall_ns = b.u64(8);
                    out_.clock_ref_ns = b.u64(16);
                }
                break;
            default:
                break;  // topology, cpuid, pmu mappings, ...: not used
        }
    }

    void event_desc(const Bytes& b) {
        const uint32_t nr = b.u32(0);
        const uint32_t attr_size = b.u32(4);
        if (attr_size < 8 || nr > b.size() / attr_size) b.fail(0, "bad EVENT_DESC header");
        size_t pos = 8;
        out_.desc_names.clear();
        for (uint32_t i = 0; i < nr; ++i) {
            b.need(pos, attr_size, "EVENT_DESC attr");
            pos += attr_size;
            const uint32_t nr_ids = b.u32(pos);
            pos += 4;
            std::string name = feature_string(b, pos);
            if (nr_ids > (b.size() - std::min(pos, b.size())) / 8) b.fail(pos, "EVENT_DESC ids");
            for (uint32_t j = 0; j < nr_ids; ++j) out_.id_names[b.u64(pos + 8 * j)] = name;
            pos += 8ULL * nr_ids;
            out_.desc_names.push_back(std::move(name));
        }
    }

    // perf record -z: records compressed by zstd, possibly split across several
    // COMPRESSED records. Decompressed in bounded pieces through one stream.
    void decompress(const Bytes& rec, std::span<const uint8_t> in) {
        if (!dctx_) {
            dctx_.reset(ZSTD_createDCtx());
            if (!dctx_) rec.fail(0, "out of memory for zstd");
            out_buf_.resize(ZSTD_DStreamOutSize());
        }
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        while (input.pos < input.size) {
            ZSTD_outBuffer output{out_buf_.data(), out_buf_.size(), 0};
            const size_t r = ZSTD_decompressStream(dctx_.get(), &output, &input);
            if (ZSTD_isError(r))
                rec.fail(0, std::string("corrupt compressed records: ") + ZSTD_getErrorName(r));
            pending_.insert(pending_.end(), out_buf_.data(), out_buf_.data() + output.pos);
            drain_pending(rec);
            if (output.pos == 0 && r != 0 && input.pos == input.size) break;
        }
        // The stream may hold more output for the same input.
        for (;;) {
            ZSTD_inBuffer none{nullptr, 0, 0};
            ZSTD_outBuffer output{out_buf_.data(), out_buf_.size(), 0};
            const size_t r = ZSTD_decompressStream(dctx_.get(), &output, &none);
            if (ZSTD_isError(r) || output.pos == 0) break;
            pending_.insert(pending_.end(), out_buf_.data(), out_buf_.data() + output.pos);
            drain_pending(rec);
        }
    }

    void drain_pending(const Bytes& rec) {
        size_t pos = 0;
        const Bytes data(pending_, rec.base(), swap_, &name_);
        while (pos + 8 <= pending_.size()) {
            const uint16_t size = data.u16(pos + 6);
            if (size < 8) rec.fail(0, "compressed perf record of size " + std::to_string(size));
            if (pos + size > pending_.size()) break;  // continues in the next piece
            if (data.u32(pos) == kCompressed || data.u32(pos) == kCompressed2)
                rec.fail(0, "compressed record inside compressed data");
            const uint64_t skip = record(data.slice(pos, size));
            if (skip) rec.fail(0, "record with trailing payload inside compressed data");
            pos += size;
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(pos));
    }

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

}  // namespace

bool is_perf_magic(std::span<const uint8_t> head) {
    static constexpr char le[] = "PERFILE2";
    static constexpr char be[] = "2ELIFREP";
    return head.size() >= 8 &&
           (std::memcmp(head.data(), le, 8) == 0 || std::memcmp(head.data(), be, 8) == 0);
}

Recording read_recording(std::span<const uint8_t> bytes, const std::string& name) {
    Recording out;
    Decoder(out, name).read(bytes);
    return out;
}

}  // namespace kprof::perf
