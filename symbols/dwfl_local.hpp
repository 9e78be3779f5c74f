// libdwfl callbacks for local files only, shared by the symbolizer (symbols/elf_symbols.cpp)
// and the unwinder (symbols/unwind.cpp): separate debug files are found by build-id and
// debuglink on this machine, never through debuginfod.
#pragma once

#include <elfutils/libdwfl.h>

namespace kprof {

// Separate debug files by build-id only (/usr/lib/debug/.build-id/xx/yyyy.debug and the
// debuglink places): never debuginfod, which dwfl_standard_find_debuginfo would ask over
// the network when DEBUGINFOD_URLS is set, stalling a recording.
int find_local_debuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                         const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                         char** debuginfo_file_name);

// Callbacks for modules reported with dwfl_report_elf; `debuginfo_path` must outlive the
// Dwfl (libdwfl's default search path when it points to nullptr).
inline Dwfl_Callbacks local_dwfl_callbacks(char** debuginfo_path) {
    Dwfl_Callbacks callbacks{};
    callbacks.find_elf = nullptr;
    callbacks.find_debuginfo = find_local_debuginfo;
    callbacks.section_address = dwfl_offline_section_address;
    callbacks.debuginfo_path = debuginfo_path;
    return callbacks;
}

}  // namespace kprof
