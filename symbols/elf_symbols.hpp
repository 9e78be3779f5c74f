// One ELF image (a file, or the vDSO in memory) opened through libdwfl, answering "which
// function holds this address" from .symtab, falling back to .dynsym (and to the symbols
// of a separate debug file found by build-id), plus DWARF file:line and inlined frames
// where debug info exists. Used by the record-time symbolizer and by --symfs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kprof {

// A source position and the function it belongs to; for inlined code, one per level.
struct SourceFrame {
    std::string function;  // the inlined function's name ("" when DWARF lacks it)
    std::string file;
    uint32_t line = 0;

    auto operator<=>(const SourceFrame&) const = default;
};

// A memfd holding the vDSO image this process runs with (every process of the running
// kernel has the same one), for libdwfl, which reads modules from descriptors; -1 (and
// why) when the kernel maps none. The caller owns the descriptor.
int vdso_memfd(std::string* why = nullptr);

class ElfImage {
  public:
    // Addresses are the ELF's own virtual addresses (st_value space), whatever base the
    // image was loaded at: callers translate a process address with vaddr_of_offset().
    struct Symbol {
        std::string name;  // demangled
        uint64_t start = 0;
        uint64_t size = 0;  // 0 for symbols the ELF gives no size (assembly labels)
    };

    // Returns nullptr (and says why in *why) when the file cannot be opened or is not ELF.
    static std::unique_ptr<ElfImage> open_file(const std::string& path, bool debug_info,
                                               std::string* why = nullptr);
    // Same for an already open descriptor (e.g. /proc/PID/map_files/...); takes it over.
    static std::unique_ptr<ElfImage> open_fd(int fd, const std::string& name, bool debug_info,
                                             std::string* why = nullptr);
    // The vDSO this process runs with (getauxval(AT_SYSINFO_EHDR)); every process of the
    // running kernel has the same image. nullptr if the kernel maps none.
    static std::unique_ptr<ElfImage> open_vdso(bool debug_info, std::string* why = nullptr);

    ~ElfImage();
    ElfImage(const ElfImage&) = delete;
    ElfImage& operator=(const ElfImage&) = delete;

    const std::string& build_id() const;  // lower-case hex, "" when the ELF has none
    // The virtual address that file offset `offset` is loaded at, through the PT_LOAD
    // segment whose file bytes hold it; nullopt outside every segment's file bytes.
    std::optional<uint64_t> vaddr_of_offset(uint64_t offset) const;
    std::optional<Symbol> lookup(uint64_t vaddr) const;
    // file:line of vaddr and, innermost first, the functions inlined there (each with the
    // call site in its caller), ending with the containing function's own position.
    // Empty when the image has no DWARF for vaddr (or debug_info was off).
    // *function gets the containing function's declaration (name, file, first line).
    std::vector<SourceFrame> source(uint64_t vaddr, SourceFrame* function = nullptr) const;
    bool has_debug_info() const;

  private:
    struct Impl;
    explicit ElfImage(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace kprof
