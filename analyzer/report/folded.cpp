// --folded: stackcollapse-perf.pl's folded stacks.
#include "analyzer/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "analyzer/report/common.hpp"

namespace kprof {
using namespace report_detail;

std::string folded_frame_name(const Function& fn) {
    std::string func = fn.name;
    // `kprof script` prints the "[unknown kernel]" pseudo-symbol as "[unknown]", as perf
    // does, so stackcollapse-perf.pl sees "[unknown]" there too.
    if (func == "[unknown]" || func == "[unknown kernel]") {
        func = "[unknown]";
        if (!fn.module.empty() && fn.module != "[unknown]") {
            std::string base = fn.module;
            if (const size_t slash = base.rfind('/'); slash != std::string::npos)
                base = base.substr(slash + 1);
            func = "[" + base + "]";
        }
    }
    std::replace(func.begin(), func.end(), ';', ':');
    // Everything after the first "(" is argument noise, except in Go method names
    // ("pkg.(*T).M") and "(anonymous namespace)".
    static constexpr std::string_view kAnon = "anonymous namespace)";
    const size_t open = func.find('(');
    const size_t close = open == std::string::npos ? std::string::npos : func.find(')', open);
    const bool go_method = open != std::string::npos && open > 0 && func[open - 1] == '.' &&
                           close != std::string::npos && close + 1 < func.size() &&
                           func[close + 1] == '.';
    if (!go_method) {
        for (size_t pos = func.find('('); pos != std::string::npos; pos = func.find('(', pos + 1)) {
            if (std::string_view(func).substr(pos + 1, kAnon.size()) == kAnon) continue;
            func.erase(pos);
            break;
        }
    }
    std::erase_if(func, [](char c) { return c == '"' || c == '\''; });
    return func;
}

void write_folded(std::ostream& out, const AggregatedProfile& p, const ReportOptions& o) {
    if (o.event >= p.event_count()) return;
    std::vector<std::string> names(p.functions().size());
    std::vector<bool> skip(p.functions().size(), false);
    for (FunctionId f = 0; f < p.functions().size(); ++f) {
        const Function& fn = p.function(f);
        skip[f] = !fn.name.empty() && fn.name.front() == '(';  // like process-name frames
        names[f] = folded_frame_name(fn);
        if (o.annotate_kernel && fn.kernel) names[f] += "_[k]";
    }
    std::vector<std::string> comms;
    for (const std::string& c : p.comms()) {
        std::string s = c;
        std::replace(s.begin(), s.end(), ' ', '_');
        comms.push_back(std::move(s));
    }
    // Different stacks can fold to the same line (same names, other modules): sum them.
    // Hashed, then sorted once (lines come out in byte order of the raw stack); each line
    // remembers a stack it came from, to print it from names escaped once per function
    // instead of escaping every line (escaping the parts equals escaping the line: ';'
    // and ' ' end any multi-byte sequence).
    struct Line {
        uint64_t weight = 0;
        size_t stack = 0;
    };
    std::unordered_map<std::string, Line> lines;
    lines.reserve(p.stack_count());
    std::string key;
    for (size_t s = 0; s < p.stack_count(); ++s) {
        const uint64_t w = p.weight(s, o.event);
        if (w == 0) continue;
        key = comms[p.comm(s)];
        for (FunctionId f : p.frames(s)) {
            if (skip[f]) continue;
            key += ';';
            key += names[f];
        }
        auto [it, inserted] = lines.try_emplace(key, Line{0, s});
        it->second.weight += w;
    }
    std::vector<const std::pair<const std::string, Line>*> sorted;
    sorted.reserve(lines.size());
    for (const auto& line : lines) sorted.push_back(&line);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (std::string& n : names) n = printable(n);
    for (std::string& c : comms) c = printable(c);
    fmt::memory_buffer buf;
    for (const auto* line : sorted) {
        const size_t s = line->second.stack;
        buf.append(comms[p.comm(s)]);
        for (FunctionId f : p.frames(s)) {
            if (skip[f]) continue;
            buf.push_back(';');
            buf.append(names[f]);
        }
        fmt::format_to(std::back_inserter(buf), " {}\n", line->second.weight);
        if (buf.size() >= (size_t{1} << 20)) {
            out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
            buf.clear();
        }
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace kprof
