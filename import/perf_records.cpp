// perf.data records: SAMPLE (callchains split into kernel and user frames), MMAP/MMAP2,
// COMM, FORK, EXIT, losses and throttling, and perf record -z's zstd-compressed records.
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "import/perf_decoder.hpp"
#include "trace/error.hpp"

namespace kprof::perf::detail {

// Which attr a record belongs to, when there are several: by its sample id, found
// where every attr puts it (perf requires the same position for all of them).
const Attr* Decoder::attr_by_id(uint64_t id) const {
    auto it = id_to_attr_.find(id);
    return it == id_to_attr_.end() ? &out_.attrs[0] : &out_.attrs[it->second];
}

uint32_t Decoder::sample_attr(const Bytes& rec) const {
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

const Attr* Decoder::side_attr(const Bytes& rec) const {
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

SampleIdTrailer Decoder::trailer(const Bytes& rec, const Attr* a, size_t body_end) const {
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

void Decoder::read_records(const Bytes& data) {
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
uint64_t Decoder::record(const Bytes& rec) {
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
            for (size_t p = 8 + a.size; p + 8 <= rec.size(); p += 8) a.ids.push_back(rec.u64(p));
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

void Decoder::sample(const Bytes& rec, uint16_t misc) {
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
    s.period = (st & kPeriod) ? next() : (a.freq() || a.sample_period == 0 ? 1 : a.sample_period);
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
        pos += nr * per;
    }
    // --call-graph dwarf: kept for unwinding, unless the file comes from a machine of the
    // other byte order (whose stack words this host cannot read).
    if (st & kRegsUser) {
        s.regs_abi = next();
        if (s.regs_abi != 0) {
            const size_t n = static_cast<size_t>(std::popcount(a.sample_regs_user));
            rec.need(pos, n * 8, "user registers");
            s.regs_offset = out_.user_regs.size();
            for (size_t i = 0; i < n; ++i) out_.user_regs.push_back(next());
        }
    }
    if (st & kStackUser) {
        const uint64_t size = next();
        if (size != 0) {
            if (size > rec.size() - pos) rec.fail(pos - 8, "user stack longer than its record");
            const std::span<const uint8_t> copy = rec.raw(pos, size);
            pos += size;
            const uint64_t valid = std::min(size, next());
            if (!swap_ && s.regs_abi != 0) {
                s.stack_offset = out_.user_stacks.size();
                s.stack_size = static_cast<uint32_t>(valid);
                out_.user_stacks.insert(out_.user_stacks.end(), copy.begin(),
                                        copy.begin() + static_cast<ptrdiff_t>(valid));
            }
        }
    }
    if (swap_) s.regs_abi = 0;
    // Later fields are not needed: the record size bounds them.
    s.ips_offset = ips_start;
    s.depth = static_cast<uint32_t>(out_.ips.size() - ips_start);
    s.kernel_depth = kernel;
    if (!has_time) out_.all_timed = false;
    out_.samples.push_back(s);
}

size_t Decoder::read_size(const Bytes& rec, size_t pos, uint64_t rf) {
    const size_t extra = ((rf & kTotalTimeEnabled) ? 8 : 0) + ((rf & kTotalTimeRunning) ? 8 : 0);
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
uint32_t Decoder::callchain(const Bytes& rec, size_t pos, uint64_t nr, uint64_t ip, uint16_t misc) {
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

void Decoder::mmap(const Bytes& rec, uint16_t misc, bool v2) {
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
    e.name = rec.str(name_off, rec.size() > name_off + tsize ? rec.size() - name_off - tsize : 0);
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

void Decoder::side_event(const Bytes& rec, SideKind kind, uint16_t misc) {
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

void Decoder::add_side(SideEvent e, const Bytes& rec, const Attr* a, size_t body) {
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

void Decoder::loss(const Bytes& rec, uint32_t type) {
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

// perf record -z: records compressed by zstd, possibly split across several
// COMPRESSED records. Decompressed in bounded pieces through one stream.
void Decoder::decompress(const Bytes& rec, std::span<const uint8_t> in) {
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

void Decoder::drain_pending(const Bytes& rec) {
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

}  // namespace kprof::perf::detail
