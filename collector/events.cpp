#include "collector/events.hpp"

#include <dirent.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "trace/error.hpp"

namespace kprof::collector {
namespace {

struct BuiltinEvent {
    std::string_view name;
    std::string_view canonical;  // the name shown in the trace
    EventKind kind;
    uint32_t type;
    uint64_t config;
};

constexpr std::array kBuiltinEvents = {
    BuiltinEvent{"cpu-clock", "cpu-clock", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_CPU_CLOCK},
    BuiltinEvent{"task-clock", "task-clock", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_TASK_CLOCK},
    BuiltinEvent{"page-faults", "page-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_PAGE_FAULTS},
    BuiltinEvent{"faults", "page-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_PAGE_FAULTS},
    BuiltinEvent{"context-switches", "context-switches", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_CONTEXT_SWITCHES},
    BuiltinEvent{"cs", "context-switches", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_CONTEXT_SWITCHES},
    BuiltinEvent{"cpu-migrations", "cpu-migrations", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_CPU_MIGRATIONS},
    BuiltinEvent{"migrations", "cpu-migrations", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_CPU_MIGRATIONS},
    BuiltinEvent{"minor-faults", "minor-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_PAGE_FAULTS_MIN},
    BuiltinEvent{"major-faults", "major-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    BuiltinEvent{"alignment-faults", "alignment-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_ALIGNMENT_FAULTS},
    BuiltinEvent{"emulation-faults", "emulation-faults", EventKind::kSoftware, PERF_TYPE_SOFTWARE,
                 PERF_COUNT_SW_EMULATION_FAULTS},
    BuiltinEvent{"cycles", "cycles", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_CPU_CYCLES},
    BuiltinEvent{"cpu-cycles", "cycles", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_CPU_CYCLES},
    BuiltinEvent{"instructions", "instructions", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_INSTRUCTIONS},
    BuiltinEvent{"cache-references", "cache-references", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_CACHE_REFERENCES},
    BuiltinEvent{"cache-misses", "cache-misses", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_CACHE_MISSES},
    BuiltinEvent{"branch-instructions", "branch-instructions", EventKind::kHardware,
                 PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    BuiltinEvent{"branches", "branch-instructions", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    BuiltinEvent{"branch-misses", "branch-misses", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_BRANCH_MISSES},
    BuiltinEvent{"bus-cycles", "bus-cycles", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_BUS_CYCLES},
    BuiltinEvent{"stalled-cycles-frontend", "stalled-cycles-frontend", EventKind::kHardware,
                 PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    BuiltinEvent{"stalled-cycles-backend", "stalled-cycles-backend", EventKind::kHardware,
                 PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    BuiltinEvent{"ref-cycles", "ref-cycles", EventKind::kHardware, PERF_TYPE_HARDWARE,
                 PERF_COUNT_HW_REF_CPU_CYCLES},
};

bool safe_component(std::string_view s) {
    return !s.empty() && s[0] != '.' && s.find('/') == std::string_view::npos &&
           s.find('\0') == std::string_view::npos;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep;
        out += items[i];
    }
    return out;
}

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Tracefs Tracefs::system() {
    const std::string main = "/sys/kernel/tracing";
    if (is_dir(main + "/events")) return Tracefs(main);
    if (is_dir(main) && ::mount("nodev", main.c_str(), "tracefs", 0, nullptr) == 0 &&
        is_dir(main + "/events"))
        return Tracefs(main);
    const int err = errno;
    const std::string debug = "/sys/kernel/debug/tracing";
    if (is_dir(debug + "/events")) return Tracefs(debug);
    throw Error("tracefs is not mounted at " + main + " and mounting it failed (" +
                std::strerror(err) +
                "): tracepoint events need it; as root run 'mount -t tracefs nodev " + main + "'");
}

std::optional<uint64_t> Tracefs::tracepoint_id(std::string_view system,
                                               std::string_view name) const {
    if (!safe_component(system) || !safe_component(name)) return std::nullopt;
    const std::string path =
        root_ + "/events/" + std::string(system) + "/" + std::string(name) + "/id";
    std::ifstream in(path);
    if (!in) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR) return std::nullopt;
        throw Error("cannot read tracepoint id " + path + " (" + std::strerror(err) +
                    "): tracepoints need root or CAP_PERFMON and read access to tracefs");
    }
    uint64_t id = 0;
    if (!(in >> id)) throw Error("unexpected contents in " + path + ": expected a number");
    return id;
}

std::vector<std::string> Tracefs::all_tracepoints() const {
    std::vector<std::string> out;
    std::ifstream in(root_ + "/available_events");
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(line);
    if (!out.empty()) return out;
    // No available_events (or unreadable): walk events/*/*.
    const std::string events = root_ + "/events";
    if (DIR* d = ::opendir(events.c_str())) {
        while (dirent* sys = ::readdir(d)) {
            if (sys->d_name[0] == '.') continue;
            const std::string sdir = events + "/" + sys->d_name;
            if (DIR* e = ::opendir(sdir.c_str())) {
                while (dirent* ev = ::readdir(e)) {
                    if (ev->d_name[0] == '.') continue;
                    if (is_dir(sdir + "/" + ev->d_name))
                        out.push_back(std::string(sys->d_name) + ":" + ev->d_name);
                }
                ::closedir(e);
            }
        }
        ::closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::vector<std::string> close_matches(std::string_view wanted,
                                       const std::vector<std::string>& candidates, size_t limit) {
    const size_t max_dist = std::max<size_t>(2, wanted.size() / 3);
    std::vector<std::pair<size_t, std::string>> scored;
    for (const std::string& c : candidates) {
        size_t d = edit_distance(wanted, c);
        // "net_dev_xmit" is close to "net:net_dev_xmit"; so is the name part alone.
        if (const size_t colon = c.find(':');
            colon != std::string::npos && wanted.find(':') == std::string_view::npos)
            d = std::min(d, edit_distance(wanted, std::string_view(c).substr(colon + 1)));
        if (d > max_dist && wanted.size() >= 4 && c.find(wanted) != std::string::npos) d = max_dist;
        if (d <= max_dist) scored.emplace_back(d, c);
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (auto& [d, c] : scored) {
        if (out.size() >= limit) break;
        if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::string> builtin_event_names() {
    std::vector<std::string> out;
    for (const BuiltinEvent& e : kBuiltinEvents) out.emplace_back(e.name);
    return out;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        start = comma + 1;
    }
    return out;
}

EventSpec resolve_event(std::string_view name, const Tracefs* tracefs) {
    for (const BuiltinEvent& e : kBuiltinEvents)
        if (e.name == name) return EventSpec{std::string(e.canonical), e.kind, e.type, e.config};

    const size_t colon = name.find(':');
    if (colon != std::string_view::npos && tracefs) {
        const std::string_view system = name.substr(0, colon);
        const std::string_view tp = name.substr(colon + 1);
        if (auto id = tracefs->tracepoint_id(system, tp))
            return EventSpec{std::string(name), EventKind::kTracepoint, PERF_TYPE_TRACEPOINT, *id};
    }

    std::vector<std::string> candidates = builtin_event_names();
    if (tracefs) {
        std::vector<std::string> tps = tracefs->all_tracepoints();
        candidates.insert(candidates.end(), tps.begin(), tps.end());
    }
    const std::vector<std::string> close = close_matches(name, candidates);
    std::string msg = "unknown event '" + std::string(name) + "'";
    if (!close.empty())
        msg += "; did you mean: " + join(close, ", ") + "?";
    else if (colon != std::string_view::npos)
        msg += "; tracepoints are listed in " +
               (tracefs ? tracefs->root() : std::string("/sys/kernel/tracing")) +
               "/available_events";
    else
        msg += "; known events: " + join(builtin_event_names(), ", ") +
               ", or a tracepoint SYSTEM:NAME";
    throw Error(msg);
}

}  // namespace kprof::collector
