// `perf script` text (what FlameGraph's stackcollapse-perf.pl reads) as a trace.
//
// The text names functions but its addresses are useless here (user addresses are
// printed relative to their dso, and the binaries may be elsewhere), so, like the folded
// importer (import/import_folded.cpp), this one makes up addresses the ordinary
// FrameResolver resolves: every distinct kernel function gets a 16-byte entry in a
// synthetic kernel symbol table (its module from the "[module]" dso), every distinct user
// function a 16-byte symbol in a synthetic copy of its dso, mapped at a fixed place into
// every process that uses it. Frames point into the middle of their symbol, so resolvers
// that look up return addresses at ip - 1 land in the same function. "[unknown]" frames
// stay unresolved.
//
// A sample is a header line, "comm pid/tid [cpu] time: period event: [trace fields]" (the
// pid, cpu, time and period columns optional, as perf's -F allows), then one line per
// frame, leaf first, "\taddr sym+off (dso)", and a blank line.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "import/imports.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

constexpr uint64_t kKernelBase = 0xffffffff81000000ULL;
// Below every synthetic kernel symbol: a kernel frame perf could not name.
constexpr uint64_t kKernelUnknown = 0xffffffff80000000ULL;
constexpr uint64_t kUserBase = 0x100000000000ULL;
constexpr uint64_t kUserSpan = 0x10000000ULL;  // per dso: room for 16M symbols
// Mapped by no process: a user frame perf could not place in any dso.
constexpr uint64_t kUserUnknown = 0x1000;
constexpr uint64_t kSlot = 16;
constexpr size_t kMaxDsos = (kKernelAddressStart - kUserBase) / kUserSpan;

std::vector<std::string_view> split_ws(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        const size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool parse_u64(std::string_view s, uint64_t& v, int base = 10) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    return ec == std::errc() && p == s.data() + s.size();
}

// "391.230878:" -> ns.
bool parse_time(std::string_view tok, uint64_t& ns) {
    if (tok.size() < 3 || tok.back() != ':') return false;
    tok.remove_suffix(1);
    const size_t dot = tok.find('.');
    if (dot == std::string_view::npos || !all_digits(tok.substr(0, dot)) ||
        !all_digits(tok.substr(dot + 1)))
        return false;
    uint64_t sec = 0, frac = 0;
    std::string_view f = tok.substr(dot + 1);
    if (f.size() > 9) f = f.substr(0, 9);
    if (!parse_u64(tok.substr(0, dot), sec) || !parse_u64(f, frac)) return false;
    for (size_t i = f.size(); i < 9; ++i) frac *= 10;
    ns = sec * 1'000'000'000ULL + frac;
    return true;
}

// A dso name that perf uses for kernel code: "[kernel.kallsyms]", "[e1000]", ...
bool kernel_dso(std::string_view dso) {
    if (dso.size() < 3 || dso.front() != '[' || dso.back() != ']') return false;
    for (std::string_view user :
         {"[vdso]", "[vsyscall]", "[unknown]", "[heap]", "[stack]", "[uprobes]", "[vvar]"})
        if (dso == user) return false;
    return !dso.starts_with("[anon");
}

struct Frame {
    std::string_view sym;
    std::string_view dso;
    uint64_t addr = 0;
};

bool parse_frame(std::string_view line, Frame& f) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return false;
    line = line.substr(first);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    const size_t sp = line.find_first_of(" \t");
    if (!parse_u64(line.substr(0, sp), f.addr, 16)) return false;
    std::string_view rest = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    rest = rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t")));
    f.dso = {};
    if (!rest.empty() && rest.back() == ')') {
        // The dso is the last parenthesized group (names may hold parentheses too).
        int depth = 0;
        size_t i = rest.size();
        while (i-- > 0) {
            if (rest[i] == ')') ++depth;
            if (rest[i] == '(' && --depth == 0) break;
        }
        if (i < rest.size() && (i == 0 || rest[i - 1] == ' ')) {
            f.dso = rest.substr(i + 1, rest.size() - i - 2);
            rest = rest.substr(0, i);
            while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
        }
    }
    // "sym+0x1f" -> "sym".
    if (const size_t plus = rest.rfind("+0x"); plus != std::string_view::npos && plus > 0) {
        uint64_t off;
        if (parse_u64(rest.substr(plus + 3), off, 16)) rest = rest.substr(0, plus);
    }
    f.sym = rest;
    return true;
}

class ScriptImporter {
  public:
    ScriptImporter() { p_.meta.source_format = "perf-script"; }

    void line(std::string_view l, uint64_t no) {
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (l.empty()) {
            flush();
            return;
        }
        if (l.front() == '#') return;
        if (l.front() == ' ' || l.front() == '\t') {
            if (!in_sample_) return;  // trace field continuation lines of some events
            Frame f;
            if (parse_frame(l, f)) add_frame(f);
            return;
        }
        flush();
        header(l, no);
    }

    Profile finish() {
        flush();
        for (const auto& [key, dso] : pid_dsos_) {
            p_.mappings.push_back(Mapping{.pid = static_cast<uint32_t>(key >> 32),
                                          .generation = 0,
                                          .start = kUserBase + dso * kUserSpan,
                                          .len = kUserSpan,
                                          .pgoff = 0,
                                          .time_ns = 0,
                                          .dso = static_cast<DsoId>(dso)});
        }
        std::sort(p_.mappings.begin(), p_.mappings.end(), [](const Mapping& a, const Mapping& b) {
            return std::tie(a.pid, a.generation, a.start) < std::tie(b.pid, b.generation, b.start);
        });
        std::sort(p_.threads.begin(), p_.threads.end(), [](const Thread& a, const Thread& b) {
            return std::tie(a.pid, a.tid) < std::tie(b.pid, b.tid);
        });
        if (!p_.samples.empty()) {
            uint64_t first = UINT64_MAX, last = 0;
            for (const Sample& s : p_.samples) {
                first = std::min(first, s.time_ns);
                last = std::max(last, s.time_ns);
            }
            p_.meta.first_sample_ns = first;
            p_.meta.duration_ns = last - first;
        }
        p_.meta.nr_cpus = max_cpu_ + 1;
        return std::move(p_);
    }

  private:
    void header(std::string_view l, uint64_t no) {
        const auto tok = split_ws(l);
        size_t time_at = tok.size();
        uint64_t time = 0;
        for (size_t i = 1; i < tok.size(); ++i)
            if (parse_time(tok[i], time)) {
                time_at = i;
                break;
            }
        size_t event_at = tok.size();
        for (size_t i = time_at == tok.size() ? 1 : time_at + 1; i < tok.size(); ++i)
            if (tok[i].size() > 1 && tok[i].back() == ':') {
                event_at = i;
                break;
            }
        if (event_at == tok.size())
            throw Error(
                fmt::format("perf script, line {}: expected a sample header 'comm pid "
                            "[cpu] time: event:', got '{}'",
                            no, std::string(l.substr(0, 80))));
        // Left of the time (or event): comm words, pid or pid/tid, optional [cpu].
        size_t left = std::min(time_at, event_at);
        cur_ = Sample{};
        cur_.time_ns = time_at < tok.size() ? time : no;
        if (left > 1 && tok[left - 1].size() > 2 && tok[left - 1].front() == '[' &&
            tok[left - 1].back() == ']') {
            uint64_t cpu = 0;
            if (parse_u64(tok[left - 1].substr(1, tok[left - 1].size() - 2), cpu) && cpu < 65536) {
                cur_.cpu = static_cast<uint16_t>(cpu);
                max_cpu_ = std::max<uint32_t>(max_cpu_, cur_.cpu);
                --left;
            }
        }
        if (left > 1) {
            const std::string_view ids = tok[left - 1];
            const size_t slash = ids.find('/');
            uint64_t pid = 0, tid = 0;
            if (slash != std::string_view::npos && parse_u64(ids.substr(0, slash), pid) &&
                parse_u64(ids.substr(slash + 1), tid)) {
                --left;
            } else if (parse_u64(ids, tid)) {
                pid = tid;
                --left;
            }
            cur_.pid = static_cast<uint32_t>(pid);
            cur_.tid = static_cast<uint32_t>(tid);
        }
        std::string comm;
        for (size_t i = 0; i < left; ++i) {
            if (i) comm += ' ';
            comm += tok[i];
        }
        // Between time and event: the period.
        uint64_t period = 1;
        if (time_at < tok.size() && event_at == time_at + 2) parse_u64(tok[time_at + 1], period);
        cur_.period = period == 0 ? 1 : period;
        std::string event(tok[event_at].substr(0, tok[event_at].size() - 1));
        cur_.event = event_index(event);
        thread(cur_.pid, cur_.tid, comm);
        ips_.clear();
        kernel_depth_ = 0;
        user_seen_ = false;
        in_sample_ = true;
        // Without a callchain, perf prints the sample's ip, sym and dso on the header line.
        if (event_at + 1 < tok.size()) {
            const std::string_view rest =
                l.substr(static_cast<size_t>(tok[event_at + 1].data() - l.data()));
            Frame f;
            if (rest.back() == ')' && parse_frame(rest, f)) add_frame(f);
        }
    }

    uint16_t event_index(const std::string& name) {
        auto [it, fresh] = events_.try_emplace(name, p_.events.size());
        if (fresh) {
            if (p_.events.size() >= UINT16_MAX) throw Error("perf script: too many events");
            p_.events.push_back(EventDesc{.name = name});
        }
        return static_cast<uint16_t>(it->second);
    }

    void thread(uint32_t pid, uint32_t tid, const std::string& comm) {
        auto [it, fresh] = threads_.try_emplace(tid, p_.threads.size());
        if (fresh) {
            Thread t;
            t.pid = pid;
            t.tid = tid;
            p_.threads.push_back(std::move(t));
        }
        p_.threads[it->second].comm = comm;
    }

    void add_frame(const Frame& f) {
        if (ips_.size() >= kMaxStackDepth) return;
        const bool kernel = kernel_dso(f.dso) || (f.dso.empty() && f.addr >= kKernelAddressStart) ||
                            (f.dso == "[unknown]" && f.addr >= kKernelAddressStart);
        const bool unknown = f.sym.empty() || f.sym == "[unknown]";
        uint64_t ip;
        if (kernel && !user_seen_) {
            ip = unknown ? kKernelUnknown : kernel_ip(f.sym, f.dso);
            ++kernel_depth_;
        } else if (kernel) {
            return;  // kernel frames below user ones: not a stack kprof can represent
        } else {
            user_seen_ = true;
            ip = user_ip(f.sym, f.dso, unknown);
        }
        ips_.push_back(ip);
    }

    uint64_t kernel_ip(std::string_view sym, std::string_view dso) {
        std::string module;
        if (dso != "[kernel.kallsyms]" && dso.size() > 2) module = dso.substr(1, dso.size() - 2);
        std::string key = module + '\0' + std::string(sym);
        auto [it, fresh] = kernel_ips_.try_emplace(std::move(key), 0);
        if (fresh) {
            const uint64_t addr = kKernelBase + p_.kernel_symbols.size() * kSlot;
            p_.kernel_symbols.push_back(KernelSymbol{
                .addr = addr, .name = std::string(sym), .module = module, .type = 't'});
            it->second = addr + kSlot / 2;
        }
        return it->second;
    }

    uint64_t user_ip(std::string_view sym, std::string_view dso_name, bool unknown) {
        if (dso_name.empty() || dso_name == "[unknown]") return kUserUnknown;
        auto [dit, dfresh] = dsos_.try_emplace(std::string(dso_name), p_.dsos.size());
        if (dfresh) {
            if (p_.dsos.size() >= kMaxDsos) throw Error("perf script: too many dsos");
            Dso d;
            d.path = std::string(dso_name);
            d.symbolized = true;
            p_.dsos.push_back(std::move(d));
        }
        const size_t dso = dit->second;
        pid_dsos_.emplace((uint64_t{cur_.pid} << 32) | dso, dso);
        const uint64_t base = kUserBase + dso * kUserSpan;
        if (unknown) return base + kUserSpan - kSlot / 2;  // past every symbol
        auto [it, fresh] = user_ips_.try_emplace(std::to_string(dso) + '\0' + std::string(sym), 0);
        if (fresh) {
            std::vector<DsoSymbol>& symbols = p_.dsos[dso].symbols;
            const uint64_t start = symbols.size() * kSlot;
            if (start + 2 * kSlot > kUserSpan)
                throw Error("perf script: too many symbols in one dso");
            DsoSymbol s;
            s.start = start;
            s.size = kSlot;
            s.name = std::string(sym);
            symbols.push_back(std::move(s));
            it->second = base + start + kSlot / 2;
        }
        return it->second;
    }

    void flush() {
        if (!in_sample_) return;
        in_sample_ = false;
        // perf script prints no frame for a sample whose callchain came back empty.
        if (ips_.empty()) ips_.push_back(kUserUnknown);
        cur_.stack = p_.stacks.intern(ips_, kernel_depth_, cur_.pid, 0);
        p_.samples.push_back(cur_);
        ++p_.events[cur_.event].samples;
    }

    Profile p_;
    Sample cur_;
    std::vector<uint64_t> ips_;
    uint32_t kernel_depth_ = 0;
    bool user_seen_ = false;
    bool in_sample_ = false;
    uint32_t max_cpu_ = 0;
    std::unordered_map<std::string, size_t> events_;
    std::unordered_map<uint32_t, size_t> threads_;
    std::unordered_map<std::string, size_t> dsos_;
    std::unordered_map<uint64_t, size_t> pid_dsos_;  // (pid << 32 | dso) -> dso
    std::unordered_map<std::string, uint64_t> kernel_ips_, user_ips_;
};

}  // namespace

Profile import_perf_script_text(std::string_view text) {
    ScriptImporter importer;
    uint64_t no = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        importer.line(text.substr(0, nl), ++no);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return importer.finish();
}

Profile import_perf_script(const std::string& path, const ImportOptions&) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("cannot open {}: check the path and its permissions", path));
    std::ostringstream text;
    text << in.rdbuf();
    Profile p = import_perf_script_text(text.str());
    p.meta.target = "perf script " + path;
    return p;
}

}  // namespace kprof
