// perf.data as a whole: the file and pipe headers, the event attributes and the feature
// sections (hostname, command line, event names, build ids, clock); the entry points of
// import/perf_reader.hpp. The records themselves are decoded in import/perf_records.cpp.
#include "import/perf_reader.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "import/perf_decoder.hpp"
#include "trace/error.hpp"

namespace kprof::perf {
namespace detail {

void Decoder::read(std::span<const uint8_t> bytes) {
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

void Decoder::read_file(const Bytes& all) {
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

Attr Decoder::parse_attr(const Bytes& b) const {
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

void Decoder::add_attr(Attr a) {
    const auto index = static_cast<uint32_t>(out_.attrs.size());
    for (uint64_t id : a.ids) id_to_attr_.emplace(id, index);
    out_.attrs.push_back(std::move(a));
}

void Decoder::build_id(const Bytes& rec) {
    // perf_record_header_build_id: header, pid, build_id[24] (20 + size + pad), name.
    rec.need(0, 36, "build id record");
    const uint16_t misc = rec.u16(4);
    size_t n = 20;
    if (misc & kMiscBuildIdSize) n = std::min<size_t>(rec.raw(32, 1)[0], 20);
    std::string id = hex(rec.raw(12, n));
    std::string file = rec.str(36, rec.size() - 36);
    if (!file.empty()) out_.build_ids.emplace_back(std::move(file), std::move(id));
}

std::string Decoder::feature_string(const Bytes& b, size_t& pos) const {
    const uint32_t len = b.u32(pos);
    b.need(pos + 4, len, "feature string");
    std::string s = b.str(pos + 4, len);
    pos += 4 + len;
    return s;
}

void Decoder::read_feature(uint64_t feat, const Bytes& b) {
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

void Decoder::event_desc(const Bytes& b) {
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

}  // namespace detail

bool is_perf_magic(std::span<const uint8_t> head) {
    static constexpr char le[] = "PERFILE2";
    static constexpr char be[] = "2ELIFREP";
    return head.size() >= 8 &&
           (std::memcmp(head.data(), le, 8) == 0 || std::memcmp(head.data(), be, 8) == 0);
}

Recording read_recording(std::span<const uint8_t> bytes, const std::string& name) {
    Recording out;
    detail::Decoder(out, name).read(bytes);
    return out;
}

}  // namespace kprof::perf
