#include "symbols/unwind.hpp"

#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "symbols/dwfl_local.hpp"
#include "symbols/elf_symbols.hpp"

namespace kprof {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";
constexpr size_t kNone = SIZE_MAX;
// Reads this far above the stack copy are taken for the stack itself (the default stack
// rlimit): an unwind that needs them was cut by the copy's size, not by bad data.
constexpr uint64_t kStackReach = 8ULL << 20;

// DWARF register number of each perf register bit (-1: not one DWARF CFI uses).
constexpr int kDwarfOfPerf[24] = {0,  3,  2,  1,  4, 5, 6,  7,  16, -1, -1, -1,
                                  -1, -1, -1, -1, 8, 9, 10, 11, 12, 13, 14, 15};

// The load bias of the ELF image in `fd` (module address = ELF vaddr + bias) when file
// offset `pgoff` is mapped at `start`; nullopt for what is not a 64-bit ELF or an offset
// outside its loadable segments.
std::optional<uint64_t> load_bias(int fd, uint64_t start, uint64_t pgoff) {
    Elf64_Ehdr eh{};
    if (::pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh) ||
        std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        return std::nullopt;
    if (eh.e_type == ET_EXEC) return 0;  // fixed addresses: libdwfl ignores the bias
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum >= PN_XNUM)
        return std::nullopt;
    std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
    const auto bytes = static_cast<ssize_t>(phdrs.size() * sizeof(Elf64_Phdr));
    if (::pread(fd, phdrs.data(), static_cast<size_t>(bytes), static_cast<off_t>(eh.e_phoff)) !=
        bytes)
        return std::nullopt;
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    for (const Elf64_Phdr& ph : phdrs) {
        if (ph.p_type != PT_LOAD) continue;
        // The mapping starts at the page holding the segment's first byte.
        if (pgoff >= (ph.p_offset & ~(page - 1)) && pgoff < ph.p_offset + ph.p_filesz)
            return start - (ph.p_vaddr - ph.p_offset + pgoff);
    }
    return std::nullopt;
}

// Paths that name no file libdwfl could read: anonymous memory, JIT code, the heap.
bool names_no_file(const std::string& path) {
    if (path == "[vdso]") return false;
    return path.empty() || path[0] != '/' || path.starts_with("//anon") ||
           path.starts_with("/memfd:");
}

}  // namespace

const char* unwind_end_name(UnwindEnd end) {
    switch (end) {
        case UnwindEnd::kOutermost:
            return "reached the outermost frame";
        case UnwindEnd::kStackCopy:
            return "cut by the stack copy's size";
        case UnwindEnd::kNoInfo:
            return "stopped at code without unwind information";
        case UnwindEnd::kMaxDepth:
            return "cut at the frame limit";
        case UnwindEnd::kError:
            return "stopped at corrupt unwind data";
    }
    return "?";
}

bool user_registers_from_perf(uint64_t mask, std::span<const uint64_t> words, UserRegisters& out) {
    if ((mask & kUnwindRegsMask) != kUnwindRegsMask) return false;
    size_t next = 0;
    for (unsigned bit = 0; bit < 64; ++bit) {
        if (!(mask & (1ULL << bit))) continue;
        if (next >= words.size()) return false;
        const uint64_t value = words[next++];
        if (bit < std::size(kDwarfOfPerf) && kDwarfOfPerf[bit] >= 0)
            out.dwarf[static_cast<size_t>(kDwarfOfPerf[bit])] = value;
    }
    return true;
}

namespace {

// One address space: its mappings, and the libdwfl session that unwinds its samples.
struct Space {
    enum class Module : uint8_t { kUnreported, kReported, kNone };
    uint32_t pid = 0;
    std::vector<UnwindMapping> mappings;  // in the order they were added
    std::vector<Module> modules;          // [i]: what mappings[i]'s binary is to the session
    Dwfl* dwfl = nullptr;
    bool stale = false;  // a binary mapped over another's place: start a new session

    // The unwind in progress (libdwfl's callbacks reach it through the Space).
    struct Walk {
        const UserRegisters* regs = nullptr;
        std::span<const uint8_t> stack;
        std::vector<uint64_t>* ips = nullptr;
        size_t first = 0;  // ips->size() when it started
        uint32_t max_frames = 0;
        uint64_t time_ns = 0;
        uint64_t last_sp = 0;
        uint64_t last_pc = 0;
        // A read above the copy (within the stack's reach) while unwinding the last frame
        // (libdwfl unwinds a frame when asked for its pc): libdwfl takes a return address
        // it cannot read for the end of the stack, so this tells a stack cut by the copy
        // from a complete one.
        bool past_copy = false;
        bool corrupt = false;
        bool max_depth = false;
    } walk;

    ~Space() { end_session(); }
    void end_session() {
        if (dwfl != nullptr) dwfl_end(dwfl);
        dwfl = nullptr;
        modules.assign(mappings.size(), Module::kUnreported);
    }

    // The mapping holding pc at the walk's time: of several, the one mapped last.
    size_t find(uint64_t pc) const {
        size_t found = kNone;
        for (size_t i = 0; i < mappings.size(); ++i) {
            const UnwindMapping& m = mappings[i];
            if (pc - m.start >= m.len || m.time_ns > walk.time_ns) continue;
            if (found == kNone || m.time_ns >= mappings[found].time_ns) found = i;
        }
        return found;
    }
};

}  // namespace

struct UserUnwinder::Impl {
    UnwindOptions options;
    UnwindStats stats;
    std::unordered_map<uint64_t, std::unique_ptr<Space>> spaces;
    char* debuginfo_path = nullptr;
    Dwfl_Callbacks callbacks = local_dwfl_callbacks(&debuginfo_path);
    // The architecture for libdwfl's unwinder, known before any module is: this program's
    // own ELF (kprof unwinds the machine it runs on).
    int arch_fd = -1;
    Elf* arch_elf = nullptr;
    int vdso_fd = -1;
    bool vdso_tried = false;
    Space* current = nullptr;  // the space of the unwind in progress

    explicit Impl(UnwindOptions o) : options(std::move(o)) {
        elf_version(EV_CURRENT);
        arch_fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (arch_fd >= 0) arch_elf = elf_begin(arch_fd, ELF_C_READ_MMAP, nullptr);
    }
    ~Impl() {
        spaces.clear();  // every session ends before the Elf it was attached with
        if (arch_elf != nullptr) elf_end(arch_elf);
        if (arch_fd >= 0) ::close(arch_fd);
        if (vdso_fd >= 0) ::close(vdso_fd);
    }

    // A descriptor of the binary behind mapping m of process pid, or -1.
    int open_binary(const UnwindMapping& m, uint32_t pid) {
        if (m.path == "[vdso]") {
            if (!vdso_tried) {
                vdso_tried = true;
                vdso_fd = vdso_memfd();
            }
            return vdso_fd >= 0 ? ::fcntl(vdso_fd, F_DUPFD_CLOEXEC, 0) : -1;
        }
        std::string path = m.path;
        const bool deleted = path.ends_with(kDeletedSuffix);
        if (deleted) path.resize(path.size() - kDeletedSuffix.size());
        if (!deleted) {
            const int fd = ::open((options.symfs + path).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0 || !options.symfs.empty()) return fd;
        }
        // Gone since it was mapped: a live process still holds it.
        char link[96];
        std::snprintf(link, sizeof link, "/proc/%u/map_files/%llx-%llx", pid,
                      static_cast<unsigned long long>(m.start),
                      static_cast<unsigned long long>(m.start + m.len));
        return ::open(link, O_RDONLY | O_CLOEXEC);
    }

    // Reports the binary holding pc to the space's session, the first time a frame
    // lands in it, so that a process's binaries are opened only when unwound through.
    void report(Space& s, uint64_t pc) {
        const size_t i = s.find(pc);
        if (i == kNone || s.modules[i] != Space::Module::kUnreported) return;
        const UnwindMapping& m = s.mappings[i];
        s.modules[i] = Space::Module::kNone;
        if (names_no_file(m.path)) return;
        // Another mapping of the same binary (its module spans all its segments), or a
        // binary since mapped over by this one.
        if (Dwfl_Module* mod = dwfl_addrmodule(s.dwfl, pc)) {
            const char* name = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                nullptr, nullptr);
            if (name != nullptr && m.path == name)
                s.modules[i] = Space::Module::kReported;
            else
                s.stale = true;
            return;
        }
        const int fd = open_binary(m, s.pid);
        const std::optional<uint64_t> bias =
            fd >= 0 ? load_bias(fd, m.start, m.pgoff) : std::nullopt;
        if (!bias) {
            if (fd >= 0) ::close(fd);
            ++stats.unreadable;
            return;
        }
        dwfl_report_begin_add(s.dwfl);
        Dwfl_Module* mod = dwfl_report_elf(s.dwfl, m.path.c_str(), m.path.c_str(), fd, *bias, true);
        dwfl_report_end(s.dwfl, nullptr, nullptr);
        if (mod == nullptr) {
            ::close(fd);  // libdwfl takes the descriptor only on success
            ++stats.unreadable;
            return;
        }
        s.modules[i] = Space::Module::kReported;
        ++stats.binaries;
    }

    bool start_session(Space& s);
    static int on_frame(Dwfl_Frame* frame, void* arg);
};

namespace {

Space* space_of(void* arg) {
    return static_cast<Space*>(arg);
}

pid_t next_thread(Dwfl*, void* dwfl_arg, void** thread_argp) {
    if (*thread_argp != nullptr) return 0;
    *thread_argp = dwfl_arg;
    return static_cast<pid_t>(space_of(dwfl_arg)->pid);
}

// Every sample is "the" thread: the registers and stack come from the walk, not a tid.
bool get_thread(Dwfl*, pid_t, void* dwfl_arg, void** thread_argp) {
    *thread_argp = dwfl_arg;
    return true;
}

bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* dwfl_arg) {
    Space::Walk& w = space_of(dwfl_arg)->walk;
    const uint64_t sp = w.regs->sp();
    if (addr >= sp && addr - sp <= w.stack.size() && w.stack.size() - (addr - sp) >= 8) {
        std::memcpy(result, w.stack.data() + (addr - sp), 8);
        return true;
    }
    if (addr >= sp + w.stack.size() && addr - sp < kStackReach) w.past_copy = true;
    return false;
}

bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
    const Space::Walk& w = space_of(thread_arg)->walk;
    return dwfl_thread_state_registers(thread, 0, static_cast<unsigned>(w.regs->dwarf.size()),
                                       w.regs->dwarf.data());
}

constexpr Dwfl_Thread_Callbacks kThreadCallbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
    .detach = nullptr,
    .thread_detach = nullptr,
};

}  // namespace

// `arg` is the Impl; the space is the one unwinding (its walk has the registers).
int UserUnwinder::Impl::on_frame(Dwfl_Frame* frame, void* arg) {
    auto* impl = static_cast<Impl*>(arg);
    Space& s = *impl->current;
    Space::Walk& w = s.walk;
    w.past_copy = false;
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
    Dwarf_Word sp = 0;
    const bool have_sp = dwfl_frame_reg(frame, 7, &sp) == 0;
    const size_t depth = w.ips->size() - w.first;
    // A caller's frame sits above its callee's: anything else is garbage that would
    // repeat or wander (libdwfl does not check).
    if (depth > 0 && (!have_sp || sp <= w.last_sp || pc >= 0xffff800000000000ULL)) {
        w.corrupt = true;
        return DWARF_CB_ABORT;
    }
    if (depth >= w.max_frames) {
        w.max_depth = true;
        return DWARF_CB_ABORT;
    }
    w.ips->push_back(pc);
    w.last_sp = sp;
    // A return address points after the call: the call itself is what the caller's CFI
    // row describes.
    w.last_pc = activation ? pc : pc - 1;
    impl->report(s, w.last_pc);
    return DWARF_CB_OK;
}

bool UserUnwinder::Impl::start_session(Space& s) {
    s.end_session();
    s.stale = false;
    s.dwfl = dwfl_begin(&callbacks);
    if (s.dwfl == nullptr) return false;
    if (!dwfl_attach_state(s.dwfl, arch_elf, static_cast<pid_t>(s.pid), &kThreadCallbacks, &s)) {
        dwfl_end(s.dwfl);
        s.dwfl = nullptr;
        return false;
    }
    return true;
}

UserUnwinder::UserUnwinder(UnwindOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
UserUnwinder::~UserUnwinder() = default;

void UserUnwinder::add_mapping(uint64_t space, uint32_t pid, const UnwindMapping& mapping) {
    std::unique_ptr<Space>& s = impl_->spaces[space];
    if (!s) s = std::make_unique<Space>();
    s->pid = pid;
    s->mappings.push_back(mapping);
    s->modules.push_back(Space::Module::kUnreported);
}

void UserUnwinder::drop(uint64_t space) {
    impl_->spaces.erase(space);
}

UnwindEnd UserUnwinder::unwind(uint64_t space, const UserRegisters& regs,
                               std::span<const uint8_t> stack, uint32_t max_frames,
                               std::vector<uint64_t>& ips, uint64_t time_ns) {
    UnwindStats& stats = impl_->stats;
    ++stats.stacks;
    auto record = [&](UnwindEnd end) {
        ++stats.ends[static_cast<size_t>(end)];
        return end;
    };
    if (max_frames == 0) return record(UnwindEnd::kMaxDepth);
    std::unique_ptr<Space>& slot = impl_->spaces[space];
    if (!slot) slot = std::make_unique<Space>();
    Space& s = *slot;
    if ((s.dwfl == nullptr || s.stale) && !impl_->start_session(s)) {
        // No session (no architecture known): the sampled pc is all there is.
        ips.push_back(regs.ip());
        ++stats.frames;
        return record(UnwindEnd::kNoInfo);
    }
    s.walk = Space::Walk{.regs = &regs,
                         .stack = stack,
                         .ips = &ips,
                         .first = ips.size(),
                         .max_frames = max_frames,
                         .time_ns = time_ns};
    // The first frame's binary, before libdwfl looks for it.
    impl_->report(s, regs.ip());
    impl_->current = &s;
    const int rc =
        dwfl_getthread_frames(s.dwfl, static_cast<pid_t>(s.pid), Impl::on_frame, impl_.get());
    impl_->current = nullptr;
    const Space::Walk w = s.walk;
    s.walk.regs = nullptr;
    s.walk.ips = nullptr;
    if (ips.size() == w.first) ips.push_back(regs.ip());  // not even the first frame
    stats.frames += ips.size() - w.first;
    if (w.max_depth) return record(UnwindEnd::kMaxDepth);
    if (w.corrupt) return record(UnwindEnd::kError);
    if (w.past_copy) return record(UnwindEnd::kStackCopy);
    // Other failed reads at the end (callee-saved registers the outermost frame's CFI
    // points at garbage for) do not make the stack any less complete.
    if (rc == 0) return record(UnwindEnd::kOutermost);
    // Stopped at the last frame: without a binary or CFI there, that is why.
    Dwfl_Module* mod = dwfl_addrmodule(s.dwfl, w.last_pc);
    if (mod == nullptr) return record(UnwindEnd::kNoInfo);
    Dwarf_Addr bias = 0;
    Dwarf_Frame* frame = nullptr;
    Dwarf_CFI* cfi = dwfl_module_eh_cfi(mod, &bias);
    if (cfi == nullptr || dwarf_cfi_addrframe(cfi, w.last_pc - bias, &frame) != 0) {
        cfi = dwfl_module_dwarf_cfi(mod, &bias);
        if (cfi == nullptr || dwarf_cfi_addrframe(cfi, w.last_pc - bias, &frame) != 0)
            return record(UnwindEnd::kNoInfo);
    }
    std::free(frame);
    return record(UnwindEnd::kError);
}

const UnwindStats& UserUnwinder::stats() const {
    return impl_->stats;
}

size_t UserUnwinder::live_spaces() const {
    return impl_->spaces.size();
}

std::string describe_unwinding(const UnwindStats& stats, uint32_t stack_copy_size) {
    if (stats.stacks == 0) return "no user stacks were unwound (DWARF)";
    const double n = static_cast<double>(stats.stacks);
    auto pct = [&](UnwindEnd e) { return 100.0 * static_cast<double>(stats.count(e)) / n; };
    char line[512];
    std::snprintf(line, sizeof line,
                  "%llu user stacks unwound (DWARF), %.1f frames on average; %.1f%% reached the "
                  "outermost frame",
                  static_cast<unsigned long long>(stats.stacks),
                  static_cast<double>(stats.frames) / n, pct(UnwindEnd::kOutermost));
    std::string out = line;
    for (UnwindEnd e :
         {UnwindEnd::kStackCopy, UnwindEnd::kNoInfo, UnwindEnd::kMaxDepth, UnwindEnd::kError}) {
        if (stats.count(e) == 0) continue;
        std::snprintf(line, sizeof line, ", %.1f%% %s", pct(e), unwind_end_name(e));
        out += line;
        if (e == UnwindEnd::kStackCopy && stack_copy_size < kMaxUserStackCopy) {
            std::snprintf(line, sizeof line, " (%u bytes; raise it with --call-graph dwarf,%u)",
                          stack_copy_size, std::min(stack_copy_size * 2, kMaxUserStackCopy));
            out += line;
        }
        if (e == UnwindEnd::kMaxDepth) out += " (raise --max-stack)";
    }
    if (stats.unreadable) {
        std::snprintf(line, sizeof line, "; %llu binaries could not be read",
                      static_cast<unsigned long long>(stats.unreadable));
        out += line;
    }
    return out;
}

}  // namespace kprof
