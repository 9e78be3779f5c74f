#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trace/profile.hpp"

namespace kprof {

// Parses /proc/kallsyms text ("ffffffff81000000 T _stext", "... t foo\t[module]") into a
// table sorted by address. Malformed lines are skipped and counted.
std::vector<KernelSymbol> parse_kallsyms(std::string_view text, uint64_t* skipped = nullptr);
std::vector<KernelSymbol> read_kallsyms(const std::string& path = "/proc/kallsyms");

// True when every address is zero (kptr_restrict hides them from this user).
bool kallsyms_restricted(const std::vector<KernelSymbol>& symbols);

}  // namespace kprof
