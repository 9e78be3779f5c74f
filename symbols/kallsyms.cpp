#include "symbols/kallsyms.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "trace/error.hpp"

namespace kprof {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view next_field(std::string_view& rest) {
    size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    size_t j = i;
    while (j < rest.size() && !is_space(rest[j])) ++j;
    std::string_view field = rest.substr(i, j - i);
    rest.remove_prefix(j);
    return field;
}

// One line: "<hex addr> <type> <name>[\t[module]]". Returns false for anything else.
bool parse_line(std::string_view line, KernelSymbol& out) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view rest = line;
    const std::string_view addr = next_field(rest);
    const std::string_view type = next_field(rest);
    const std::string_view name = next_field(rest);
    if (addr.empty() || addr.size() > 16 || type.size() != 1 || name.empty()) return false;
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(addr.data(), addr.data() + addr.size(), value, 16);
    if (ec != std::errc() || ptr != addr.data() + addr.size()) return false;
    const char t = type[0];
    if (!((t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') || t == '?')) return false;
    std::string_view module = next_field(rest);
    if (!module.empty()) {
        if (module.size() < 3 || module.front() != '[' || module.back() != ']') return false;
        module = module.substr(1, module.size() - 2);
    }
    if (!next_field(rest).empty()) return false;
    out.addr = value;
    out.type = t;
    out.name.assign(name);
    out.module.assign(module);
    return true;
}

}  // namespace

std::vector<KernelSymbol> parse_kallsyms(std::string_view text, uint64_t* skipped) {
    std::vector<KernelSymbol> symbols;
    uint64_t bad = 0;
    KernelSymbol sym;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        if (parse_line(line, sym))
            symbols.push_back(sym);
        else
            ++bad;
    }
    // /proc/kallsyms lists vmlinux in address order but modules after it in load order.
    std::stable_sort(symbols.begin(), symbols.end(),
                     [](const KernelSymbol& a, const KernelSymbol& b) { return a.addr < b.addr; });
    if (skipped) *skipped = bad;
    return symbols;
}

std::vector<KernelSymbol> read_kallsyms(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open " + path + ": " + std::strerror(errno) +
                    "; pass a readable kallsyms file with --kallsyms");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error("cannot read " + path + ": " + std::strerror(errno));
    return parse_kallsyms(text.str());
}

bool kallsyms_restricted(const std::vector<KernelSymbol>& symbols) {
    return !symbols.empty() && std::all_of(symbols.begin(), symbols.end(),
                                           [](const KernelSymbol& s) { return s.addr == 0; });
}

}  // namespace kprof
