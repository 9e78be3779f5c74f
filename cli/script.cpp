// kprof script: every sample with its symbolized frames, in the layout `perf script` (perf
// 6.1) prints for call chains, so that tools written for it (FlameGraph's
// stackcollapse-perf.pl) read kprof's output unchanged:
//
//   comm pid/tid [cpu] secs.usecs: period event:
//   \t<addr, %16x> function+0xoff (module)
//   ...                                              one line per frame, leaf first
//   <blank line>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "symbols/resolve.hpp"
#include "trace/error.hpp"
#include "trace/text.hpp"

namespace kprof::cli {
namespace {

// Formatted frames are cached per stack up to this many bytes: samples repeat stacks.
constexpr size_t kFrameCacheBytes = 64 << 20;
constexpr size_t kFlushBytes = 1 << 20;

class ScriptPrinter {
  public:
    ScriptPrinter(const Profile& profile, const ResolveOptions& options)
        : profile_(profile), resolver_(profile, options) {
        for (const Thread& t : profile.threads) {
            comms_[key(t.pid, t.tid)] = escape_text(t.comm);
            comms_by_tid_[t.tid] = escape_text(t.comm);
        }
        for (const EventDesc& e : profile.events) event_names_.push_back(escape_text(e.name));
    }

    void print_all(std::FILE* out) {
        // perf script prints in time order; samples are only ordered per CPU.
        std::vector<uint32_t> order(profile_.samples.size());
        std::iota(order.begin(), order.end(), 0u);
        std::stable_sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
            return profile_.samples[a].time_ns < profile_.samples[b].time_ns;
        });
        fmt::memory_buffer buf;
        for (uint32_t i : order) {
            print_sample(profile_.samples[i], buf);
            if (buf.size() >= kFlushBytes) flush(buf, out);
        }
        flush(buf, out);
        if (std::fflush(out) != 0 || std::ferror(out))
            throw Error("cannot write the output (disk full or closed pipe?)");
    }

  private:
    static uint64_t key(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }

    static void flush(fmt::memory_buffer& buf, std::FILE* out) {
        if (buf.size() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size())
            throw Error("cannot write the output (disk full or closed pipe?)");
        buf.clear();
    }

    const std::string& comm(const Sample& s) {
        if (auto it = comms_.find(key(s.pid, s.tid)); it != comms_.end()) return it->second;
        if (auto it = comms_by_tid_.find(s.tid); it != comms_by_tid_.end()) return it->second;
        // perf's name for a thread it never saw a COMM for.
        return comms_.emplace(key(s.pid, s.tid), fmt::format(":{}", static_cast<int32_t>(s.tid)))
            .first->second;
    }

    void print_sample(const Sample& s, fmt::memory_buffer& buf) {
        const std::string event =
            s.event < event_names_.size() ? event_names_[s.event] : fmt::format("event{}", s.event);
        // perf 6.1 perf_sample__fprintf_start: "%s " comm (with call chains), "%5d/%-5d ",
        // "[%03d] ", "%5lu.%06lu: ", then "%10lu " period and "%s: " event. pid and tid are
        // signed there: a sample the kernel took outside any task says -1/-1.
        fmt::format_to(std::back_inserter(buf), "{} {:5}/{:<5} [{:03}] {:5}.{:06}: {:10} {}: \n",
                       comm(s), static_cast<int32_t>(s.pid), static_cast<int32_t>(s.tid), s.cpu,
                       s.time_ns / 1'000'000'000ULL, (s.time_ns % 1'000'000'000ULL) / 1000,
                       s.period, event);
        if (s.stack < profile_.stacks.size()) buf.append(frames(s.stack));
        buf.push_back('\n');
    }

    std::string_view frames(StackId id) {
        if (auto it = cache_.find(id); it != cache_.end()) return it->second;
        std::string text = format_frames(profile_.stacks.get(id));
        if (cache_bytes_ + text.size() > kFrameCacheBytes) {
            scratch_ = std::move(text);
            return scratch_;
        }
        cache_bytes_ += text.size();
        return cache_.emplace(id, std::move(text)).first->second;
    }

    std::string format_frames(const StackView& stack) const {
        std::string text;
        std::vector<Location> locs;
        for (size_t i = 0; i < stack.ips.size(); ++i) {
            locs.clear();
            resolver_.resolve(stack, i, locs);
            if (locs.empty()) continue;
            // Inlined frames come first and share the containing function's address.
            const Location& outer = locs.back();
            const uint64_t addr = outer.dso.empty() ? outer.ip : outer.dso_offset;
            for (const Location& loc : locs) {
                const bool named = loc.resolved || loc.function == "[bpf]";
                const std::string function = named ? escape_text(loc.function) : "[unknown]";
                std::string module;
                if (loc.kernel)
                    module = escape_text(loc.module);
                else
                    module = outer.dso.empty() ? "[unknown]" : escape_text(outer.dso);
                if (loc.resolved && !loc.inlined)
                    fmt::format_to(std::back_inserter(text), "\t{:16x} {}+{:#x} ({})\n", addr,
                                   function, loc.offset, module);
                else
                    fmt::format_to(std::back_inserter(text), "\t{:16x} {} ({})\n", addr, function,
                                   module);
            }
        }
        return text;
    }

    const Profile& profile_;
    FrameResolver resolver_;
    std::unordered_map<uint64_t, std::string> comms_;
    std::unordered_map<uint32_t, std::string> comms_by_tid_;
    std::vector<std::string> event_names_;
    std::unordered_map<StackId, std::string> cache_;
    size_t cache_bytes_ = 0;
    std::string scratch_;
};

}  // namespace

int cmd_script(int argc, char** argv) {
    CLI::App cli{
        "Print every sample with its symbolized call chain, leaf first, in the layout "
        "of `perf script`, so that tools made for perf (FlameGraph's "
        "stackcollapse-perf.pl) read it unchanged.",
        "kprof script"};
    TraceOptions options;
    add_trace_options(cli, options);
    if (const auto done = parse_command_line(cli, argc, argv)) return *done;
    const OpenedTrace t = open_trace(options);
    ScriptPrinter printer(t.profile, resolve_options(options));
    printer.print_all(stdout);
    return 0;
}

}  // namespace kprof::cli
