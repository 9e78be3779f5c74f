// perf.data -> Profile: the decoded records (import/perf_reader.hpp) replayed in time
// order into threads, address spaces (a new generation per exec), mappings and interned
// stacks; kernel symbols from kallsyms, user symbols through the ELF symbolizer.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "import/imports.hpp"
#include "import/perf_reader.hpp"
#include "symbols/kallsyms.hpp"
#include "symbols/symbolize.hpp"
#include "symbols/unwind.hpp"
#include "trace/error.hpp"
#include "trace/text.hpp"

namespace kprof {
namespace {

constexpr uint32_t kSoftwareType = 1;  // PERF_TYPE_SOFTWARE
constexpr uint64_t kDummyConfig = 9;   // PERF_COUNT_SW_DUMMY

void warn(const std::string& what) {
    std::fprintf(stderr, "kprof: warning: %s\n", what.c_str());
}

// The whole file, mapped read-only (perf.data files are often larger than memory wants).
class MappedFile {
  public:
    explicit MappedFile(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0)
            throw Error("cannot open " + path + ": " + std::strerror(errno) +
                        " (check the path and that you may read it)");
        struct stat st {};
        if (::fstat(fd_, &st) != 0)
            throw Error("cannot stat " + path + ": " + std::strerror(errno));
        mtime_ns_ = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                    static_cast<uint64_t>(st.st_mtim.tv_nsec);
        if (S_ISREG(st.st_mode) && st.st_size > 0) {
            size_ = static_cast<size_t>(st.st_size);
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
            if (p != MAP_FAILED) {
                map_ = static_cast<const uint8_t*>(p);
                return;
            }
        }
        // A pipe or a special file: read it all.
        size_ = 0;
        uint8_t buf[1 << 16];
        for (;;) {
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw Error("cannot read " + path + ": " + std::strerror(errno));
            if (n == 0) break;
            copy_.insert(copy_.end(), buf, buf + n);
        }
    }
    ~MappedFile() {
        if (map_) ::munmap(const_cast<uint8_t*>(map_), size_);
        if (fd_ >= 0) ::close(fd_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const uint8_t> bytes() const {
        return map_ ? std::span<const uint8_t>(map_, size_) : std::span<const uint8_t>(copy_);
    }
    uint64_t mtime_ns() const { return mtime_ns_; }

  private:
    int fd_ = -1;
    const uint8_t* map_ = nullptr;
    size_t size_ = 0;
    std::vector<uint8_t> copy_;
    uint64_t mtime_ns_ = 0;
};

std::string fallback_event_name(const perf::Attr& a) {
    static constexpr const char* hardware[] = {"cycles",
                                               "instructions",
                                               "cache-references",
                                               "cache-misses",
                                               "branch-instructions",
                                               "branch-misses",
                                               "bus-cycles",
                                               "stalled-cycles-frontend",
                                               "stalled-cycles-backend",
                                               "ref-cycles"};
    static constexpr const char* software[] = {
        "cpu-clock",        "task-clock",   "page-faults",  "context-switches",
        "cpu-migrations",   "minor-faults", "major-faults", "alignment-faults",
        "emulation-faults", "dummy",        "bpf-output",   "cgroup-switches"};
    if (a.type == 0 && a.config < std::size(hardware)) return hardware[a.config];
    if (a.type == 1 && a.config < std::size(software)) return software[a.config];
    if (a.type == 2) return "tracepoint:" + std::to_string(a.config);
    return "raw:" + std::to_string(a.type) + ":" + std::to_string(a.config);
}

std::string event_name(const perf::Recording& rec, size_t index) {
    const perf::Attr& a = rec.attrs[index];
    for (uint64_t id : a.ids)
        if (auto it = rec.id_names.find(id); it != rec.id_names.end()) return it->second;
    if (index < rec.desc_names.size() && rec.desc_names.size() == rec.attrs.size())
        return rec.desc_names[index];
    return fallback_event_name(a);
}

// Mappings of file-backed code (and the vDSO); anonymous memory has no symbols.
bool names_code_file(const std::string& name) {
    if (name == "[vdso]") return true;
    return !name.empty() && name[0] == '/' && !name.starts_with("//anon") &&
           !name.starts_with("/memfd:");
}

std::string running_release() {
    utsname u{};
    return ::uname(&u) == 0 ? std::string(u.release) : std::string();
}

// Replays threads and address spaces. An address space is (pid, generation): exec starts
// a new one, and so does a pid reused after its process exited.
class Replay {
  public:
    Replay(Profile& p, const perf::Recording& rec) : p_(p), rec_(rec) {
        for (const auto& [file, id] : rec.build_ids) build_ids_.emplace(file, id);
    }

    uint64_t key(uint64_t time, uint64_t seq) const { return rec_.all_timed ? time : seq; }

    void run() {
        std::vector<const perf::SideEvent*> order;
        order.reserve(rec_.side.size());
        for (const perf::SideEvent& e : rec_.side) order.push_back(&e);
        std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
            return key(a->time, a->seq) < key(b->time, b->seq);
        });
        for (const perf::SideEvent* e : order) {
            switch (e->kind) {
                case perf::SideKind::mmap:
                    mmap(*e);
                    break;
                case perf::SideKind::comm:
                    comm(*e);
                    break;
                case perf::SideKind::fork:
                    fork(*e);
                    break;
                case perf::SideKind::exit:
                    exit(*e);
                    break;
            }
        }
        // Drop clones that a mapping of the process itself replaced.
        std::vector<Mapping> kept;
        kept.reserve(p_.mappings.size());
        for (size_t i = 0; i < p_.mappings.size(); ++i)
            if (!removed_[i]) kept.push_back(p_.mappings[i]);
        p_.mappings = std::move(kept);
        std::sort(p_.mappings.begin(), p_.mappings.end(), [](const Mapping& a, const Mapping& b) {
            return std::tie(a.pid, a.generation, a.start, a.time_ns) <
                   std::tie(b.pid, b.generation, b.start, b.time_ns);
        });
    }

    uint32_t generation(uint32_t pid, uint64_t at) const {
        auto it = epochs_.find(pid);
        if (it == epochs_.end()) return 0;
        const auto& v = it->second;
        auto pos = std::upper_bound(v.begin(), v.end(), at,
                                    [](uint64_t k, const auto& e) { return k < e.first; });
        return pos == v.begin() ? 0 : std::prev(pos)->second;
    }

    Thread& thread(uint32_t pid, uint32_t tid) {
        auto [it, fresh] = thread_index_.try_emplace(tid, p_.threads.size());
        if (fresh) {
            Thread t;
            t.pid = pid;
            t.tid = tid;
            p_.threads.push_back(std::move(t));
        }
        Thread& t = p_.threads[it->second];
        t.pid = pid;
        return t;
    }

  private:
    struct PidState {
        uint32_t generation = 0;
        bool dead = false;
        std::vector<size_t> live;  // mappings of the current generation
    };

    void bump(uint32_t pid, uint64_t at) {
        PidState& s = pids_[pid];
        ++s.generation;
        s.dead = false;
        s.live.clear();
        epochs_[pid].emplace_back(at, s.generation);
    }

    DsoId dso(const std::string& path, const std::string& build_id) {
        auto [it, fresh] = dso_index_.try_emplace(path, static_cast<DsoId>(p_.dsos.size()));
        if (fresh) {
            Dso d;
            d.path = path;
            if (auto b = build_ids_.find(path); b != build_ids_.end()) d.build_id = b->second;
            p_.dsos.push_back(std::move(d));
        }
        if (!build_id.empty() && p_.dsos[it->second].build_id.empty())
            p_.dsos[it->second].build_id = build_id;
        return it->second;
    }

    void add_mapping(const Mapping& m, bool clone) {
        pids_[m.pid].live.push_back(p_.mappings.size());
        p_.mappings.push_back(m);
        removed_.push_back(false);
        cloned_.push_back(clone);
    }

    void mmap(const perf::SideEvent& e) {
        PidState& s = pids_[e.pid];
        const uint64_t at = key(e.time, e.seq);
        if (s.dead) bump(e.pid, at);
        if (!names_code_file(e.name) || e.len == 0) return;
        PidState& st = pids_[e.pid];
        for (size_t i : st.live) {
            const Mapping& m = p_.mappings[i];
            if (cloned_[i] && m.start < e.addr + e.len && e.addr < m.start + m.len)
                removed_[i] = true;
        }
        add_mapping(Mapping{.pid = e.pid,
                            .generation = st.generation,
                            .start = e.addr,
                            .len = e.len,
                            .pgoff = e.pgoff,
                            .time_ns = e.time,
                            .dso = dso(e.name, e.build_id)},
                    false);
    }

    void comm(const perf::SideEvent& e) {
        Thread& t = thread(e.pid, e.tid);
        t.comm = e.name;
        if (e.exec) bump(e.pid, key(e.time, e.seq));
    }

    void fork(const perf::SideEvent& e) {
        Thread& t = thread(e.pid, e.tid);
        t.ppid = e.ppid;
        t.start_ns = e.time;
        // A child runs under its parent's name until it execs (no COMM record until then).
        if (auto it = thread_index_.find(e.ptid); t.comm.empty() && it != thread_index_.end())
            t.comm = p_.threads[it->second].comm;
        if (e.pid == e.ppid) return;  // a new thread in the same address space
        const uint64_t at = key(e.time, e.seq);
        if (pids_[e.pid].dead || !pids_[e.pid].live.empty()) bump(e.pid, at);
        // The child starts as a copy of its parent's address space; perf writes no MMAP
        // records for it.
        auto parent = pids_.find(e.ppid);
        if (parent == pids_.end()) return;
        const std::vector<size_t> live = parent->second.live;
        const uint32_t gen = pids_[e.pid].generation;
        for (size_t i : live) {
            if (removed_[i]) continue;
            Mapping m = p_.mappings[i];
            m.pid = e.pid;
            m.generation = gen;
            m.time_ns = e.time;
            add_mapping(m, true);
        }
    }

    void exit(const perf::SideEvent& e) {
        Thread& t = thread(e.pid, e.tid);
        t.exit_ns = e.time;
        if (e.pid == e.tid) pids_[e.pid].dead = true;
    }

    Profile& p_;
    const perf::Recording& rec_;
    std::unordered_map<std::string, std::string> build_ids_;
    std::unordered_map<std::string, DsoId> dso_index_;
    std::unordered_map<uint32_t, PidState> pids_;
    std::unordered_map<uint32_t, std::vector<std::pair<uint64_t, uint32_t>>> epochs_;
    std::unordered_map<uint32_t, size_t> thread_index_;
    std::vector<bool> removed_, cloned_;
};

// perf record --call-graph dwarf: samples carry the user registers and a copy of the user
// stack instead of user frames; they are unwound here, with the recorder's unwinder, from
// the binaries at their recorded paths (under --symfs), as perf report does.
class DwarfStacks {
  public:
    DwarfStacks(const Profile& p, const perf::Recording& rec, const ImportOptions& options)
        : rec_(rec) {
        const bool any = std::any_of(rec.samples.begin(), rec.samples.end(),
                                     [](const perf::RawSample& s) { return s.stack_size != 0; });
        if (!any || !options.unwind_user) return;
        unwinder_ = std::make_unique<UserUnwinder>(UnwindOptions{.symfs = options.symfs});
        for (const Mapping& m : p.mappings)
            unwinder_->add_mapping(key(m.pid, m.generation), m.pid,
                                   UnwindMapping{.start = m.start,
                                                 .len = m.len,
                                                 .pgoff = m.pgoff,
                                                 .time_ns = rec.all_timed ? m.time_ns : 0,
                                                 .path = p.dsos[m.dso].path});
        for (const perf::RawSample& s : rec.samples)
            stack_copy_ = std::max(stack_copy_, s.stack_size);
    }

    // The sample's frames: its kernel frames, then the user frames unwound from its copies
    // (or, without them, the frames perf recorded).
    std::span<const uint64_t> stack(const perf::RawSample& s, uint32_t generation) {
        const std::span<const uint64_t> recorded(rec_.ips.data() + s.ips_offset, s.depth);
        if (!unwinder_ || s.regs_abi != kRegsAbi64 || s.stack_size == 0) return recorded;
        const uint64_t mask = rec_.attrs[s.attr].sample_regs_user;
        const size_t n = static_cast<size_t>(std::popcount(mask));
        UserRegisters regs;
        if (!user_registers_from_perf(mask, {rec_.user_regs.data() + s.regs_offset, n}, regs))
            return recorded;
        ips_.assign(recorded.begin(), recorded.begin() + s.kernel_depth);
        unwinder_->unwind(key(s.pid, generation), regs,
                          {rec_.user_stacks.data() + s.stack_offset, s.stack_size},
                          std::min(kMaxUnwoundFrames, kMaxStackDepth - s.kernel_depth), ips_,
                          rec_.all_timed ? s.time : UINT64_MAX);
        return ips_;
    }

    // Says how the unwinding went when some stacks did not reach their outermost frame.
    void report() const {
        if (!unwinder_) return;
        const UnwindStats& st = unwinder_->stats();
        if (st.count(UnwindEnd::kOutermost) + st.count(UnwindEnd::kMaxDepth) < st.stacks)
            warn(describe_unwinding(st, stack_copy_));
    }

  private:
    // perf's default --max-stack, which perf report applies to unwound stacks too.
    static constexpr uint32_t kMaxUnwoundFrames = 127;
    static uint64_t key(uint32_t pid, uint32_t generation) {
        return (uint64_t{pid} << 32) | generation;
    }

    const perf::Recording& rec_;
    std::unique_ptr<UserUnwinder> unwinder_;
    std::vector<uint64_t> ips_;
    uint32_t stack_copy_ = 0;
};

void load_kernel_symbols(Profile& p, const perf::Recording& rec, const ImportOptions& options) {
    const bool live = options.kallsyms_path.empty();
    const std::string path = live ? "/proc/kallsyms" : options.kallsyms_path;
    try {
        p.kernel_symbols = read_kallsyms(path);
    } catch (const Error& e) {
        if (!live) throw;
        warn(std::string("no kernel symbols: ") + e.what() + "; pass --kallsyms FILE");
        return;
    }
    p.meta.kptr_restricted = kallsyms_restricted(p.kernel_symbols);
    if (p.meta.kptr_restricted)
        warn(path +
             " shows only zero addresses (kptr_restrict): kernel frames stay "
             "unresolved; run as root or pass --kallsyms FILE");
    if (live && !rec.osrelease.empty()) {
        const std::string running = running_release();
        if (!running.empty() && running != rec.osrelease)
            warn("the recording was made on kernel " + escape_text(rec.osrelease) +
                 " but this is " + running +
                 ": kernel symbols may be wrong; pass --kallsyms FILE from that kernel");
    }
    // KASLR: perf notes where _text was; move the snapshot's kernel image symbols there.
    if (rec.kernel_text_addr == 0 || p.meta.kptr_restricted) return;
    auto text =
        std::find_if(p.kernel_symbols.begin(), p.kernel_symbols.end(),
                     [](const KernelSymbol& s) { return s.module.empty() && s.name == "_text"; });
    if (text == p.kernel_symbols.end() || text->addr == rec.kernel_text_addr) return;
    const uint64_t delta = rec.kernel_text_addr - text->addr;
    warn(
        "the kernel image was loaded at another address when recording (another boot?): "
        "kernel symbols were moved to match; module symbols may be wrong");
    for (KernelSymbol& s : p.kernel_symbols)
        if (s.module.empty()) s.addr += delta;
    std::stable_sort(p.kernel_symbols.begin(), p.kernel_symbols.end(),
                     [](const KernelSymbol& a, const KernelSymbol& b) { return a.addr < b.addr; });
}

Profile build_profile(perf::Recording rec, const ImportOptions& options) {
    Profile p;
    TraceMeta& m = p.meta;
    m.source_format = "perf.data";
    m.hostname = rec.hostname;
    m.kernel_release = rec.osrelease;
    m.arch = rec.arch;
    for (const std::string& arg : rec.cmdline) {
        if (!m.command_line.empty()) m.command_line += ' ';
        m.command_line += arg;
    }
    m.target = rec.pipe_mode ? "perf.data (pipe mode)" : "perf.data";
    m.nr_cpus = rec.nr_cpus_avail ? rec.nr_cpus_avail : rec.nr_cpus_online;

    // perf adds a "dummy" software event to catch side-band records; it never samples,
    // so it is no event of the profile.
    std::vector<uint64_t> attr_samples(rec.attrs.size());
    for (const perf::RawSample& s : rec.samples) ++attr_samples[s.attr];
    std::vector<uint16_t> event_of(rec.attrs.size());
    for (size_t i = 0; i < rec.attrs.size(); ++i) {
        const perf::Attr& a = rec.attrs[i];
        if (a.type == kSoftwareType && a.config == kDummyConfig && attr_samples[i] == 0) continue;
        if (p.events.size() >= UINT16_MAX)
            throw Error("perf.data has more events than kprof supports");
        event_of[i] = static_cast<uint16_t>(p.events.size());
        p.events.push_back(EventDesc{.name = event_name(rec, i),
                                     .type = a.type,
                                     .config = a.config,
                                     .use_freq = a.freq(),
                                     .freq_or_period = a.sample_period});
    }

    Replay replay(p, rec);
    replay.run();

    if (rec.all_timed)
        std::stable_sort(rec.samples.begin(), rec.samples.end(),
                         [](const auto& a, const auto& b) { return a.time < b.time; });
    p.samples.reserve(rec.samples.size());
    bool any_kernel = false, any_user = false;
    uint64_t first = UINT64_MAX, last = 0;
    DwarfStacks dwarf(p, rec, options);
    for (const perf::RawSample& s : rec.samples) {
        const uint32_t gen = replay.generation(s.pid, replay.key(s.time, s.seq));
        const std::span<const uint64_t> ips = dwarf.stack(s, gen);
        any_kernel |= s.kernel_depth > 0;
        any_user |= s.kernel_depth < s.depth;
        p.samples.push_back(Sample{.time_ns = s.time,
                                   .period = s.period,
                                   .pid = s.pid,
                                   .tid = s.tid,
                                   .stack = p.stacks.intern(ips, s.kernel_depth, s.pid, gen),
                                   .cpu = static_cast<uint16_t>(s.cpu),
                                   .event = event_of[s.attr]});
        ++p.events[event_of[s.attr]].samples;
        first = std::min(first, s.time);
        last = std::max(last, s.time);
    }
    // Threads seen only in samples (started before the recording, no COMM synthesized);
    // perf names the idle task "swapper".
    {
        std::unordered_set<uint32_t> known;
        for (const Thread& t : p.threads) known.insert(t.tid);
        for (const Sample& s : p.samples)
            if (known.insert(s.tid).second) replay.thread(s.pid, s.tid);
        for (Thread& t : p.threads)
            if (t.tid == 0 && t.comm.empty()) t.comm = "swapper";
    }
    std::sort(p.threads.begin(), p.threads.end(), [](const Thread& a, const Thread& b) {
        return std::tie(a.pid, a.tid) < std::tie(b.pid, b.tid);
    });
    if (!p.samples.empty()) {
        m.first_sample_ns = first;
        m.duration_ns = last - first;
        if (rec.has_clock_data) m.start_time_ns = rec.clock_wall_ns + (first - rec.clock_ref_ns);
    }
    for (const auto& [cpu, loss] : rec.losses) p.losses.push_back(loss);

    if (any_kernel) load_kernel_symbols(p, rec, options);
    if (options.symbolize_user && any_user)
        symbolize_profile(
            p, SymbolizeOptions{.debug_info = options.debug_info, .symfs = options.symfs});
    if (rec.truncated_stacks)
        warn(std::to_string(rec.truncated_stacks) + " call chains were longer than " +
             std::to_string(kMaxStackDepth) + " frames and were cut");
    dwarf.report();
    return p;
}

}  // namespace

Profile import_perf_data_bytes(std::span<const uint8_t> bytes, const ImportOptions& options) {
    return build_profile(perf::read_recording(bytes, "perf.data"), options);
}

Profile import_perf_data(const std::string& path, const ImportOptions& options) {
    const MappedFile file(path);
    Profile p = build_profile(perf::read_recording(file.bytes(), path), options);
    // Without CLOCK_DATA (perf record -k), perf.data holds no wall-clock time: the file
    // was last written when the recording ended.
    if (p.meta.start_time_ns == 0 && file.mtime_ns() > p.meta.duration_ns)
        p.meta.start_time_ns = file.mtime_ns() - p.meta.duration_ns;
    return p;
}

}  // namespace kprof
