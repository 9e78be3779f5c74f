#include "symbols/elf_symbols.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "symbols/dwfl_local.hpp"

namespace kprof {
namespace {

std::string hex(const unsigned char* bits, int len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(static_cast<size_t>(len) * 2);
    for (int i = 0; i < len; ++i) {
        s += kDigits[bits[i] >> 4];
        s += kDigits[bits[i] & 0xf];
    }
    return s;
}

std::string dwfl_message() {
    const char* m = dwfl_errmsg(-1);
    return m != nullptr ? m : "unknown libdwfl error";
}

// C++ names are stored demangled, as perf shows them and as imported perf script text
// carries them, so every reader of a trace sees the same spelling.
std::string demangle(const char* name) {
    if (name[0] != '_' || name[1] != 'Z') return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
    return status == 0 && out != nullptr ? std::string(out.get()) : std::string(name);
}

// A die's name as the symbol table spells it (the linkage name, demangled, so that an
// inlined C++ function reads like its out-of-line copy), else its plain name.
std::string die_function_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name}) {
        if (dwarf_attr_integrate(die, at, &attr) != nullptr) {
            const char* s = dwarf_formstring(&attr);
            if (s != nullptr) return demangle(s);
        }
    }
    return {};
}

// Adds the frame of `scope` (an inlined instance or a function) at file:line, innermost
// levels first. A function is the outermost level: its declaration goes to `function` and
// the result is true. For an inlined instance file:line move to its call site, the
// position in the level above.
bool add_scope_frame(Dwarf_Die* scope, Dwarf_Files* files, std::string& file, uint32_t& line,
                     std::vector<SourceFrame>& frames, SourceFrame* function) {
    frames.push_back({die_function_name(scope), file, line});
    if (dwarf_tag(scope) == DW_TAG_subprogram) {
        if (function != nullptr) {
            const char* decl_file = dwarf_decl_file(scope);
            int decl_line = 0;
            dwarf_decl_line(scope, &decl_line);
            *function = {frames.back().function, decl_file != nullptr ? decl_file : "",
                         decl_line > 0 ? static_cast<uint32_t>(decl_line) : 0};
        }
        return true;
    }
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    file.clear();
    line = 0;
    if (files != nullptr &&
        dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &attr), &value) == 0) {
        const char* f = dwarf_filesrc(files, value, nullptr, nullptr);
        if (f != nullptr) file = f;
    }
    if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &attr), &value) == 0)
        line = static_cast<uint32_t>(value);
    return false;
}

// The [vdso] line of /proc/self/maps gives the image's size; the ELF header alone
// does not bound it.
size_t vdso_size(uintptr_t start) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        if (line.find("[vdso]") == std::string::npos) continue;
        std::istringstream in(line);
        uintptr_t lo = 0, hi = 0;
        char dash = 0;
        in >> std::hex >> lo >> dash >> hi;
        if (lo == start && hi > lo) return hi - lo;
    }
    return 0;
}

}  // namespace

int find_local_debuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                         const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                         char** debuginfo_file_name) {
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
    if (fd >= 0) return fd;
    // The debuglink search (same directory, .debug/, /usr/lib/debug/<dir>) is local too,
    // and is what files split with objcopy --only-keep-debug use.
    return file_name != nullptr && debuglink_file != nullptr
               ? dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
                                              debuglink_file, debuglink_crc, debuginfo_file_name)
               : -1;
}

struct ElfImage::Impl {
    char* debuginfo_path = nullptr;  // libdwfl's default search path
    Dwfl_Callbacks callbacks{};
    Dwfl* dwfl = nullptr;
    Dwfl_Module* mod = nullptr;
    Dwarf_Addr bias = 0;  // module address = ELF vaddr + bias
    std::string build_id;
    bool debug_info = true;

    struct Load {
        uint64_t offset, filesz, vaddr;
    };
    std::vector<Load> loads;

    // The module's symbols (.symtab, else .dynsym, plus a MiniDebugInfo table), sorted by
    // start once, so that each lookup is a binary search: dwfl_module_addrinfo scans every
    // symbol on each call, which made symbolizing a system-wide recording take seconds.
    struct Entry {
        uint64_t start;    // ELF vaddr
        uint64_t size;     // 0 = sizeless (assembly label)
        uint64_t max_end;  // greatest start + size of the sized entries up to this one
        const char* name;  // owned by libelf, lives as long as the Dwfl
        int binding;       // higher wins at equal start, as in libdwfl
        uint32_t section;  // index into sections, kNoSection outside them
    };
    static constexpr uint32_t kNoSection = UINT32_MAX;
    bool symbols_built = false;
    std::vector<Entry> symbols;
    struct Section {
        uint64_t addr, size;
    };
    std::vector<Section> sections;  // allocated sections by address

    // Per compile unit (by its DIE's offset), the address ranges of its functions,
    // sorted, made on the unit's first address. dwarf_getscopes searches the unit from
    // its start for every address, visiting every function before the right one: for
    // big -g binaries that was seconds per recording.
    struct FunctionRange {
        uint64_t low, high;  // DWARF addresses, [low, high)
        Dwarf_Die die;
    };
    std::unordered_map<Dwarf_Off, std::vector<FunctionRange>> unit_functions;

    const std::vector<FunctionRange>& functions_of(Dwarf_Die* cudie) {
        auto [it, inserted] = unit_functions.try_emplace(dwarf_dieoffset(cudie));
        if (!inserted) return it->second;
        std::vector<FunctionRange>& out = it->second;
        // Functions sit at the top of the unit, or inside namespaces (C++).
        std::vector<Dwarf_Die> parents{*cudie};
        while (!parents.empty()) {
            Dwarf_Die parent = parents.back();
            parents.pop_back();
            Dwarf_Die child;
            if (dwarf_child(&parent, &child) != 0) continue;
            do {
                const int tag = dwarf_tag(&child);
                if (tag == DW_TAG_namespace || tag == DW_TAG_module) {
                    parents.push_back(child);
                } else if (tag == DW_TAG_subprogram) {
                    Dwarf_Addr base = 0, start = 0, end = 0;
                    for (ptrdiff_t off = 0;
                         (off = dwarf_ranges(&child, off, &base, &start, &end)) > 0;)
                        if (end > start) out.push_back({start, end, child});
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        // Stable: of functions starting at one address (aliases in assembly units), the
        // first in the unit wins, as in dwarf_getscopes.
        std::stable_sort(
            out.begin(), out.end(),
            [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
        return out;
    }

    // The function of the unit containing pc, or nullptr.
    const Dwarf_Die* function_at(Dwarf_Die* cudie, uint64_t pc) {
        const std::vector<FunctionRange>& fns = functions_of(cudie);
        auto it = std::upper_bound(fns.begin(), fns.end(), pc,
                                   [](uint64_t v, const FunctionRange& f) { return v < f.low; });
        if (it == fns.begin()) return nullptr;
        --it;
        while (it != fns.begin() && std::prev(it)->low == it->low) --it;
        for (const uint64_t low = it->low; it != fns.end() && it->low == low; ++it)
            if (pc < it->high) return &it->die;
        return nullptr;
    }

    static int binding_value(const GElf_Sym& sym) {
        switch (GELF_ST_BIND(sym.st_info)) {
            case STB_GLOBAL:
                return 3;
            case STB_WEAK:
                return 2;
            case STB_LOCAL:
                return 1;
            default:
                return 0;
        }
    }

    uint32_t section_of(uint64_t vaddr) const {
        auto it = std::upper_bound(sections.begin(), sections.end(), vaddr,
                                   [](uint64_t v, const Section& s) { return v < s.addr; });
        if (it == sections.begin()) return kNoSection;
        --it;
        return vaddr - it->addr < it->size ? static_cast<uint32_t>(it - sections.begin())
                                           : kNoSection;
    }

    void build_symbols() {
        symbols_built = true;
        Dwarf_Addr b = 0;
        if (Elf* elf = dwfl_module_getelf(mod, &b)) {
            Elf_Scn* scn = nullptr;
            while ((scn = elf_nextscn(elf, scn)) != nullptr) {
                GElf_Shdr shdr;
                if (gelf_getshdr(scn, &shdr) == nullptr || (shdr.sh_flags & SHF_ALLOC) == 0 ||
                    shdr.sh_size == 0)
                    continue;
                sections.push_back({shdr.sh_addr, shdr.sh_size});
            }
            std::sort(sections.begin(), sections.end(),
                      [](const Section& x, const Section& y) { return x.addr < y.addr; });
        }
        const int n = dwfl_module_getsymtab(mod);
        for (int i = 1; i < n; ++i) {
            GElf_Sym sym;
            GElf_Addr addr = 0;
            GElf_Word shndx = 0;
            Elf* elf = nullptr;
            Dwarf_Addr sym_bias = 0;
            const char* name =
                dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &elf, &sym_bias);
            if (name == nullptr || name[0] == '\0' || shndx == SHN_UNDEF) continue;
            const int type = GELF_ST_TYPE(sym.st_info);
            if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
            const uint64_t start = addr - bias;
            symbols.push_back({start, sym.st_size, 0, name, binding_value(sym), section_of(start)});
        }
        // Stable: at equal start and binding the table's first symbol wins, as in libdwfl.
        std::stable_sort(symbols.begin(), symbols.end(),
                         [](const Entry& x, const Entry& y) { return x.start < y.start; });
        uint64_t max_end = 0;
        for (Entry& e : symbols) {
            if (e.size != 0) max_end = std::max(max_end, e.start + e.size);
            e.max_end = max_end;
        }
    }

    // libdwfl's choice (dwfl_module_addrsym): the sized symbol holding vaddr that starts
    // last, the higher binding at equal start (then the first in the table); failing that, the
    // nearest sizeless symbol below in the same section, provided no sized symbol ends between it
    // and vaddr.
    const Entry* find(uint64_t vaddr) {
        if (!symbols_built) build_symbols();
        auto ub = std::upper_bound(symbols.begin(), symbols.end(), vaddr,
                                   [](uint64_t v, const Entry& e) { return v < e.start; });
        if (ub == symbols.begin()) return nullptr;
        const size_t top = static_cast<size_t>(ub - symbols.begin()) - 1;
        const Entry* best = nullptr;
        for (size_t i = top + 1; i-- > 0 && symbols[i].max_end > vaddr;) {
            const Entry& e = symbols[i];
            if (best != nullptr && e.start != best->start) break;
            if (e.size != 0 && vaddr - e.start < e.size &&
                (best == nullptr || e.binding >= best->binding))
                best = &e;
        }
        if (best != nullptr) return best;
        // No sized symbol holds vaddr, so every sized one below ends at or before it.
        const uint64_t min_label = symbols[top].max_end;
        const uint32_t section = section_of(vaddr);
        for (size_t i = top + 1; i-- > 0 && symbols[i].start >= min_label;) {
            const Entry& e = symbols[i];
            if (best != nullptr && e.start != best->start) break;
            if (e.size == 0 && (best == nullptr || e.binding >= best->binding)) best = &e;
        }
        if (best == nullptr || section == kNoSection || best->section != section) return nullptr;
        return best;
    }

    ~Impl() {
        if (dwfl != nullptr) dwfl_end(dwfl);
    }

    // Takes over fd (libdwfl closes it with the Dwfl).
    bool report(int fd, const std::string& name, std::string* why) {
        callbacks = local_dwfl_callbacks(&debuginfo_path);
        dwfl = dwfl_begin(&callbacks);
        if (dwfl == nullptr) {
            ::close(fd);
            if (why != nullptr) *why = dwfl_message();
            return false;
        }
        dwfl_report_begin(dwfl);
        // Base 0 with p_vaddr added: module addresses are the ELF's own addresses.
        mod = dwfl_report_elf(dwfl, name.c_str(), name.c_str(), fd, 0, true);
        dwfl_report_end(dwfl, nullptr, nullptr);
        if (mod == nullptr) {
            if (why != nullptr) *why = dwfl_message();
            return false;
        }
        Elf* elf = dwfl_module_getelf(mod, &bias);
        if (elf == nullptr) {
            if (why != nullptr) *why = dwfl_message();
            return false;
        }
        size_t phnum = 0;
        if (elf_getphdrnum(elf, &phnum) == 0) {
            for (size_t i = 0; i < phnum; ++i) {
                GElf_Phdr phdr;
                if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr) continue;
                if (phdr.p_type != PT_LOAD) continue;
                loads.push_back({phdr.p_offset, phdr.p_filesz, phdr.p_vaddr});
            }
        }
        if (loads.empty()) {
            if (why != nullptr) *why = "no loadable segments";
            return false;
        }
        const unsigned char* bits = nullptr;
        GElf_Addr vaddr = 0;
        const int len = dwfl_module_build_id(mod, &bits, &vaddr);
        if (len > 0) build_id = hex(bits, len);
        return true;
    }
};

ElfImage::ElfImage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ElfImage::~ElfImage() = default;

std::unique_ptr<ElfImage> ElfImage::open_fd(int fd, const std::string& name, bool debug_info,
                                            std::string* why) {
    auto impl = std::make_unique<Impl>();
    impl->debug_info = debug_info;
    if (!impl->report(fd, name, why)) return nullptr;
    return std::unique_ptr<ElfImage>(new ElfImage(std::move(impl)));
}

std::unique_ptr<ElfImage> ElfImage::open_file(const std::string& path, bool debug_info,
                                              std::string* why) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (why != nullptr) *why = std::strerror(errno);
        return nullptr;
    }
    return open_fd(fd, path, debug_info, why);
}

int vdso_memfd(std::string* why) {
    const uintptr_t start = getauxval(AT_SYSINFO_EHDR);
    const size_t size = start != 0 ? vdso_size(start) : 0;
    if (size == 0) {
        if (why != nullptr) *why = "the kernel maps no vDSO";
        return -1;
    }
    const int fd = memfd_create("kprof-vdso", MFD_CLOEXEC);
    if (fd < 0) {
        if (why != nullptr) *why = std::string("memfd_create: ") + std::strerror(errno);
        return -1;
    }
    const auto* bytes = reinterpret_cast<const char*>(start);
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, bytes + done, size - done);
        if (n <= 0) {
            if (why != nullptr) *why = std::string("writing the vDSO: ") + std::strerror(errno);
            ::close(fd);
            return -1;
        }
        done += static_cast<size_t>(n);
    }
    return fd;
}

std::unique_ptr<ElfImage> ElfImage::open_vdso(bool debug_info, std::string* why) {
    // libdwfl reads modules from descriptors: hand it the in-memory image as a memfd.
    const int fd = vdso_memfd(why);
    if (fd < 0) return nullptr;
    return open_fd(fd, "[vdso]", debug_info, why);
}

const std::string& ElfImage::build_id() const {
    return impl_->build_id;
}

std::optional<uint64_t> ElfImage::vaddr_of_offset(uint64_t offset) const {
    for (const Impl::Load& l : impl_->loads)
        if (offset >= l.offset && offset - l.offset < l.filesz)
            return l.vaddr + (offset - l.offset);
    return std::nullopt;
}

std::optional<ElfImage::Symbol> ElfImage::lookup(uint64_t vaddr) const {
    const Impl::Entry* e = impl_->find(vaddr);
    if (e == nullptr) return std::nullopt;
    return Symbol{.name = demangle(e->name), .start = e->start, .size = e->size};
}

bool ElfImage::has_debug_info() const {
    if (!impl_->debug_info) return false;
    Dwarf_Addr bias = 0;
    return dwfl_module_getdwarf(impl_->mod, &bias) != nullptr;
}

std::vector<SourceFrame> ElfImage::source(uint64_t vaddr, SourceFrame* function) const {
    std::vector<SourceFrame> frames;
    if (!impl_->debug_info) return frames;
    const Dwarf_Addr addr = vaddr + impl_->bias;
    Dwarf_Addr cu_bias = 0;
    Dwarf_Die* cudie = dwfl_module_addrdie(impl_->mod, addr, &cu_bias);
    if (cudie == nullptr) return frames;

    std::string file;
    uint32_t line = 0;
    if (Dwfl_Line* l = dwfl_module_getsrc(impl_->mod, addr)) {
        int lineno = 0;
        const char* f = dwfl_lineinfo(l, nullptr, &lineno, nullptr, nullptr, nullptr);
        if (f != nullptr) file = f;
        line = lineno > 0 ? static_cast<uint32_t>(lineno) : 0;
    }

    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0) files = nullptr;
    const uint64_t pc = addr - cu_bias;
    if (const Dwarf_Die* fn = impl_->function_at(cudie, pc)) {
        // The scopes containing pc, from the function down to the innermost inlined
        // instance: each level's child that holds pc.
        std::vector<Dwarf_Die> chain{*fn};
        for (bool deeper = true; deeper && chain.size() < 256;) {
            deeper = false;
            Dwarf_Die child;
            if (dwarf_child(&chain.back(), &child) != 0) break;
            do {
                const int tag = dwarf_tag(&child);
                if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
                     tag == DW_TAG_try_block || tag == DW_TAG_catch_block) &&
                    dwarf_haspc(&child, pc) == 1) {
                    chain.push_back(child);
                    deeper = true;
                    break;
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        // Innermost first, as below: each inlined level's position is its call site in
        // the level above.
        for (size_t k = chain.size(); k-- > 0;) {
            const int tag = dwarf_tag(&chain[k]);
            if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
            if (add_scope_frame(&chain[k], files, file, line, frames, function)) break;
        }
        if (frames.empty() && !file.empty()) frames.push_back({"", file, line});
        return frames;
    }

    // Not inside a function the unit lists (e.g. defined in a class body): libdw's search.
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cudie, pc, &scopes);
    // scopes run innermost first. Past an inlined instance dwarf_getscopes goes on into
    // its abstract origin's scopes, so the concrete caller comes from dwarf_getscopes_die;
    // each level's call site is the position in the level above.
    for (int i = 0; i < n; ++i) {
        Dwarf_Die* scope = &scopes[i];
        const int tag = dwarf_tag(scope);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
        if (add_scope_frame(scope, files, file, line, frames, function) || frames.size() > 64)
            break;
        Dwarf_Die* outer = nullptr;
        const int m = dwarf_getscopes_die(scope, &outer);
        std::free(scopes);
        scopes = outer;
        n = m;
        i = 0;  // outer[0] is the inlined instance itself
    }
    std::free(scopes);
    if (frames.empty() && !file.empty()) frames.push_back({"", file, line});
    return frames;
}

}  // namespace kprof
