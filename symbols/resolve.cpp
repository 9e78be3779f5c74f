#include "symbols/resolve.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include "symbols/kallsyms.hpp"
#include "symbols/symbolize.hpp"

namespace kprof {
namespace {

constexpr std::string_view kKernelModule = "[kernel.kallsyms]";
constexpr std::string_view kUnknownKernel = "[unknown kernel]";
constexpr std::string_view kUnknown = "[unknown]";
constexpr std::string_view kBpf = "[bpf]";
constexpr uint64_t kPage = 4096;

bool is_text_type(char t) {
    return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

// Linker-made section boundaries: they name an address, not a function.
bool is_section_marker(const KernelSymbol& s) {
    static constexpr std::string_view kExact[] = {
        "_stext",       "_text",          "_etext",       "_sinittext",
        "_einittext",   "_end",           "_edata",       "_sdata",
        "__bss_start",  "__bss_stop",     "__init_begin", "__init_end",
        "__end_rodata", "__start_rodata", "__pi__text",   "__pi__etext",
    };
    const std::string_view n = s.name;
    for (std::string_view e : kExact)
        if (n == e) return true;
    if (n.starts_with("__start_") || n.starts_with("__stop_")) return true;
    if (n.starts_with("__") && (n.ends_with("_text_start") || n.ends_with("_text_end")))
        return true;
    // "__end_entry_SYSENTER_compat" is a marker, "__end_swap_bio_write.cold" a function.
    if (n.starts_with("__end_") && s.type >= 'A' && s.type <= 'Z' &&
        n.find('.') == std::string_view::npos)
        return true;
    return false;
}

// Which of several kallsyms names for one address a frame shows. perf gives every
// kallsyms symbol the size up to the next one, so all aliases but the last listed are
// empty and lose to it (choose_best_symbol prefers a non-empty symbol): the last one in
// file order wins, e.g. __pi_memcpy over memcpy and __memcpy. kprof also prefers a
// function over section markers and data at the same address.
bool better_symbol(const KernelSymbol& a, const KernelSymbol& b) {
    const bool fa = is_text_type(a.type) && !is_section_marker(a);
    const bool fb = is_text_type(b.type) && !is_section_marker(b);
    if (fa != fb) return fa;
    return true;  // a comes later in file order than b
}

// A kernel address range with one meaning: a function, or a gap of known kind.
struct KernelRange {
    uint64_t start = 0;
    uint64_t end = 0;     // exclusive; ips in [end, next start) are outside any function
    uint32_t symbol = 0;  // index into KernelTable::symbols_
    bool function = false;
};

class KernelTable {
  public:
    explicit KernelTable(std::vector<KernelSymbol> symbols) : symbols_(std::move(symbols)) {
        std::stable_sort(
            symbols_.begin(), symbols_.end(),
            [](const KernelSymbol& a, const KernelSymbol& b) { return a.addr < b.addr; });
        if (symbols_.empty() || kallsyms_restricted(symbols_)) return;
        find_kernel_image();
        for (size_t i = 0; i < symbols_.size();) {
            size_t best = i, j = i;
            for (; j < symbols_.size() && symbols_[j].addr == symbols_[i].addr; ++j)
                if (better_symbol(symbols_[j], symbols_[best])) best = j;
            const KernelSymbol& s = symbols_[best];
            KernelRange r;
            r.start = s.addr;
            r.symbol = static_cast<uint32_t>(best);
            r.function = is_text_type(s.type) && !is_section_marker(s);
            // kallsyms has no sizes: a function ends where the next symbol starts, but the
            // last one of a module (the next is another module, or nothing) gets a bound.
            const bool open_ended = j == symbols_.size() || symbols_[j].module != s.module;
            const uint64_t cap = (s.addr & ~(kPage - 1)) + 2 * kPage;
            if (j == symbols_.size())
                r.end = cap < s.addr ? UINT64_MAX : cap;
            else
                r.end = open_ended ? std::min(cap, symbols_[j].addr) : symbols_[j].addr;
            if (r.end <= r.start) r.end = r.start + 1;
            ranges_.push_back(r);
            i = j;
        }
    }

    Location resolve(uint64_t ip) const {
        Location loc;
        loc.ip = ip;
        loc.kernel = true;
        auto it = std::upper_bound(ranges_.begin(), ranges_.end(), ip,
                                   [](uint64_t v, const KernelRange& r) { return v < r.start; });
        if (it == ranges_.begin()) return unknown(loc);
        const KernelRange& r = *std::prev(it);
        const KernelSymbol& s = symbols_[r.symbol];
        if (ip >= r.end || !r.function) {
            if (s.module == "bpf") {
                loc.function = kBpf;
                loc.module = kBpf;
                return loc;
            }
            return unknown(loc);
        }
        loc.function = s.name;
        loc.module = s.module.empty() ? std::string(kKernelModule) : "[" + s.module + "]";
        loc.offset = ip - r.start;
        loc.resolved = true;
        return loc;
    }

  private:
    // perf's kernel map: from _text (or _stext) to _edata (or _etext). An ip outside it
    // and outside any module is in no map at all, and perf prints its module as
    // "[unknown]": JIT code not in kallsyms (classic BPF socket filters), trampolines.
    void find_kernel_image() {
        uint64_t text = 0, stext = 0, edata = 0, etext = 0;
        for (const KernelSymbol& s : symbols_) {
            if (!s.module.empty()) continue;
            if (s.name == "_text") text = s.addr;
            if (s.name == "_stext") stext = s.addr;
            if (s.name == "_edata") edata = s.addr;
            if (s.name == "_etext") etext = s.addr;
        }
        image_start_ = text != 0 ? text : stext;
        image_end_ = edata != 0 ? edata : etext;
        if (image_start_ == 0 || image_end_ <= image_start_) image_start_ = image_end_ = 0;
    }

    Location unknown(Location loc) const {
        loc.function = kUnknownKernel;
        const bool outside = image_end_ != 0 && (loc.ip < image_start_ || loc.ip >= image_end_);
        loc.module = outside ? kUnknown : kKernelModule;
        return loc;
    }

    uint64_t image_start_ = 0, image_end_ = 0;  // 0, 0: not known

    std::vector<KernelSymbol> symbols_;
    std::vector<KernelRange> ranges_;  // sorted by start, one per distinct address
};

struct Segment {
    uint64_t start = 0;
    uint64_t end = 0;
    uint32_t mapping = 0;
};

// The user address spaces of the trace: for each (pid, generation), which mapping covers
// which range, later mappings painted over earlier ones.
class AddressSpaces {
  public:
    explicit AddressSpaces(const std::vector<Mapping>& mappings) {
        std::map<std::pair<uint32_t, uint32_t>, std::vector<uint32_t>> groups;
        for (uint32_t i = 0; i < mappings.size(); ++i)
            if (mappings[i].len > 0) groups[{mappings[i].pid, mappings[i].generation}].push_back(i);
        for (auto& [key, indices] : groups) {
            std::stable_sort(indices.begin(), indices.end(), [&](uint32_t a, uint32_t b) {
                return mappings[a].time_ns < mappings[b].time_ns;
            });
            std::map<uint64_t, Segment> painted;
            for (uint32_t i : indices) {
                const Mapping& m = mappings[i];
                const uint64_t end = m.start + m.len < m.start ? UINT64_MAX : m.start + m.len;
                paint(painted, Segment{m.start, end, i});
            }
            std::vector<Segment>& out = spaces_[key];
            for (auto& [start, seg] : painted) out.push_back(seg);
        }
    }

    const Segment* find(uint32_t pid, uint32_t generation, uint64_t ip) const {
        auto space = spaces_.find({pid, generation});
        if (space == spaces_.end()) return nullptr;
        const std::vector<Segment>& segs = space->second;
        auto it = std::upper_bound(segs.begin(), segs.end(), ip,
                                   [](uint64_t v, const Segment& s) { return v < s.start; });
        if (it == segs.begin()) return nullptr;
        const Segment& s = *std::prev(it);
        return ip < s.end ? &s : nullptr;
    }

  private:
    static void paint(std::map<uint64_t, Segment>& painted, Segment seg) {
        // Trim or split whatever the new segment overlaps.
        auto it = painted.lower_bound(seg.start);
        if (it != painted.begin()) {
            auto prev = std::prev(it);
            if (prev->second.end > seg.start) {
                Segment left = prev->second;
                if (left.end > seg.end) {
                    Segment right = left;
                    right.start = seg.end;
                    painted[right.start] = right;
                }
                prev->second.end = seg.start;
            }
        }
        it = painted.lower_bound(seg.start);
        while (it != painted.end() && it->first < seg.end) {
            Segment rest = it->second;
            it = painted.erase(it);
            if (rest.end > seg.end) {
                rest.start = seg.end;
                painted[rest.start] = rest;
                break;
            }
        }
        painted[seg.start] = seg;
    }

    std::map<std::pair<uint32_t, uint32_t>, std::vector<Segment>> spaces_;
};

std::string_view basename_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// --- DWARF source positions and inlined frames (tables of symbols/symbolize.cpp) ---

// The DWARF chain recorded for relative address rel of dso, if any.
const DsoAddressSource* find_address_source(const Dso& dso, uint64_t rel) {
    auto it = std::lower_bound(dso.sources.begin(), dso.sources.end(), rel,
                               [](const DsoAddressSource& a, uint64_t v) { return a.addr < v; });
    return it != dso.sources.end() && it->addr == rel && !it->frames.empty() ? &*it : nullptr;
}

// Appends the inlined frames of `source` (innermost first) and gives `function`, the
// containing function's Location, its own position at the address.
void append_source_frames(const DsoAddressSource& source, bool inline_frames, Location& function,
                          std::vector<Location>& out) {
    const DsoSourceFrame& own = source.frames.back();
    if (inline_frames) {
        for (size_t i = 0; i + 1 < source.frames.size(); ++i) {
            const DsoSourceFrame& f = source.frames[i];
            Location loc;
            loc.function = f.function.empty() ? std::string(kUnknown) : f.function;
            loc.module = function.module;
            loc.ip = function.ip;
            loc.resolved = true;
            loc.inlined = true;
            loc.file = f.file;
            loc.line = f.line;
            out.push_back(std::move(loc));
        }
    }
    // Without the inlined levels, the address is where the outermost one was called.
    function.file = own.file;
    function.line = own.line;
}

// --- end of DWARF helpers ---

}  // namespace

struct FrameResolver::Impl {
    const Profile& profile;
    ResolveOptions options;
    KernelTable kernel;
    AddressSpaces spaces;
    // --symfs: the dsos recorded without symbols, looked up under that directory now.
    std::vector<Dso> symfs_dsos;
    const std::vector<Dso>& dsos;

    Impl(const Profile& p, const ResolveOptions& o)
        : profile(p),
          options(o),
          kernel(o.kallsyms_path.empty() ? p.kernel_symbols : read_kallsyms(o.kallsyms_path)),
          spaces(p.mappings),
          symfs_dsos(o.symfs.empty() ? std::vector<Dso>{}
                                     : symbolize_dsos_under(p, o.symfs, o.inline_frames)),
          dsos(o.symfs.empty() ? p.dsos : symfs_dsos) {}

    // The function containing a user ip (never inlined frames: see append_user).
    Location resolve_user(const StackView& stack, uint64_t ip,
                          const DsoAddressSource** source = nullptr) const {
        Location loc;
        loc.ip = ip;
        loc.function = kUnknown;
        loc.module = kUnknown;
        const Segment* seg = spaces.find(stack.pid, stack.generation, ip);
        if (!seg) return loc;
        const Mapping& m = profile.mappings[seg->mapping];
        if (m.dso == kNoDso || m.dso >= dsos.size()) return loc;
        const Dso& dso = dsos[m.dso];
        loc.module = std::string(basename_of(dso.path));
        if (loc.module.empty()) loc.module = kUnknown;
        const uint64_t rel = ip - m.start + m.pgoff;
        loc.dso = dso.path;
        loc.dso_offset = rel;
        const DsoSymbol* sym = find_symbol(dso, rel);
        if (!sym) return loc;
        loc.function = sym->name;
        loc.module = dso.path;
        loc.offset = rel - sym->start;
        loc.file = sym->file;
        loc.line = sym->line;
        loc.resolved = true;
        if (source != nullptr) *source = find_address_source(dso, rel);
        return loc;
    }

    static const DsoSymbol* find_symbol(const Dso& dso, uint64_t rel) {
        const std::vector<DsoSymbol>& syms = dso.symbols;
        auto it = std::upper_bound(syms.begin(), syms.end(), rel,
                                   [](uint64_t v, const DsoSymbol& s) { return v < s.start; });
        if (it == syms.begin()) return nullptr;
        const DsoSymbol& s = *std::prev(it);
        if (s.size == 0 || rel - s.start < s.size) return &s;
        return nullptr;
    }

    // Where inlined frames (options.inline_frames) and --symfs lookups plug in: both add
    // Locations for the same ip before the containing function's.
    void append_user(const StackView& stack, uint64_t ip, std::vector<Location>& out) const {
        const DsoAddressSource* source = nullptr;
        Location loc = resolve_user(stack, ip, &source);
        if (source != nullptr) append_source_frames(*source, options.inline_frames, loc, out);
        out.push_back(std::move(loc));
    }
};

FrameResolver::FrameResolver(const Profile& profile, const ResolveOptions& options)
    : impl_(std::make_unique<Impl>(profile, options)) {}
FrameResolver::~FrameResolver() = default;
FrameResolver::FrameResolver(FrameResolver&&) noexcept = default;

void FrameResolver::resolve(const StackView& stack, size_t index,
                            std::vector<Location>& out) const {
    const uint64_t ip = stack.ips[index];
    if (index < stack.kernel_depth)
        out.push_back(impl_->kernel.resolve(ip));
    else
        impl_->append_user(stack, ip, out);
}

Location FrameResolver::resolve_kernel(uint64_t ip) const {
    return impl_->kernel.resolve(ip);
}

}  // namespace kprof
