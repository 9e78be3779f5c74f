// Folded stacks ("comm;root;...;leaf weight", FlameGraph's format) as a trace.
//
// Folded text has names only, so the importer makes up addresses the ordinary
// FrameResolver can resolve: every distinct user function gets a 16-byte symbol in one
// synthetic dso ("[folded]") mapped into every synthetic process, and every distinct
// kernel function (a frame ending in "_[k]") a 16-byte entry in a synthetic kernel symbol
// table. Frames point into the middle of their symbol, so resolvers that look up
// return addresses at ip - 1 land in the same function.
//
// Each line becomes one Sample whose period is the line's weight; meta.source_format is
// "folded", and the analyzer then counts a sample's period as its sample count too (the
// weight of a folded line is usually a count), so --weight samples and --weight period
// agree. Each distinct comm (the first field) becomes one thread (pid = tid = 1, 2, ...).
// Sample times are line numbers, so --time percent slices select ranges of lines.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "import/imports.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

constexpr uint64_t kFoldedUserBase = 0x400000;
constexpr uint64_t kFoldedKernelBase = 0xffffffff81000000ULL;
constexpr uint64_t kSymbolSize = 16;
constexpr std::string_view kKernelSuffix = "_[k]";

class FoldedImporter {
  public:
    FoldedImporter() {
        profile_.meta.source_format = "folded";
        profile_.meta.nr_cpus = 1;
        profile_.events.push_back(EventDesc{.name = "folded"});
        Dso dso;
        dso.path = "[folded]";
        dso.symbolized = true;
        profile_.dsos.push_back(std::move(dso));
    }

    void add_line(std::string_view line, uint64_t line_no) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') return;
        const size_t space = line.find_last_of(' ');
        if (space == std::string_view::npos)
            throw Error(fmt::format("folded stacks, line {}: expected 'comm;frame;...;frame COUNT'",
                                    line_no));
        const std::string_view count_text = line.substr(space + 1);
        uint64_t weight = 0;
        auto [ptr, ec] =
            std::from_chars(count_text.data(), count_text.data() + count_text.size(), weight);
        if (ec != std::errc() || ptr != count_text.data() + count_text.size())
            throw Error(fmt::format(
                "folded stacks, line {}: '{}' is not a whole-number count after the last space",
                line_no, std::string(count_text)));
        if (weight == 0) return;

        std::string_view stack = line.substr(0, space);
        const size_t semi = stack.find(';');
        const std::string comm(stack.substr(0, semi));
        stack = semi == std::string_view::npos ? std::string_view{} : stack.substr(semi + 1);
        const uint32_t pid = thread_of(comm);

        ips_.clear();
        while (!stack.empty()) {  // root first in the text
            const size_t next = stack.find(';');
            std::string_view frame = stack.substr(0, next);
            stack = next == std::string_view::npos ? std::string_view{} : stack.substr(next + 1);
            if (frame.empty()) continue;
            if (frame.size() > kKernelSuffix.size() && frame.ends_with(kKernelSuffix)) {
                frame.remove_suffix(kKernelSuffix.size());
                ips_.push_back(kernel_ip(frame));
            } else {
                ips_.push_back(user_ip(frame));
            }
        }
        std::reverse(ips_.begin(), ips_.end());  // the trace stores stacks leaf first
        if (ips_.size() > kMaxStackDepth)
            throw Error(
                fmt::format("folded stacks, line {}: {} frames, more than the {} a trace "
                            "holds",
                            line_no, ips_.size(), kMaxStackDepth));
        uint32_t kernel_depth = 0;
        while (kernel_depth < ips_.size() && ips_[kernel_depth] >= kKernelAddressStart)
            ++kernel_depth;
        const StackId id = profile_.stacks.intern(ips_, kernel_depth, pid, 0);
        profile_.samples.push_back(Sample{
            .time_ns = sample_index_++,
            .period = weight,
            .pid = pid,
            .tid = pid,
            .stack = id,
            .cpu = 0,
            .event = 0,
        });
    }

    Profile finish() {
        profile_.events[0].samples = profile_.samples.size();
        const uint64_t len = (profile_.dsos[0].symbols.size() + 1) * kSymbolSize;
        for (const Thread& t : profile_.threads)
            profile_.mappings.push_back(Mapping{.pid = t.pid,
                                                .generation = 0,
                                                .start = kFoldedUserBase,
                                                .len = len,
                                                .pgoff = 0,
                                                .time_ns = 0,
                                                .dso = 0});
        profile_.meta.duration_ns = sample_index_ == 0 ? 0 : sample_index_ - 1;
        return std::move(profile_);
    }

  private:
    Profile profile_;
    std::unordered_map<std::string, uint32_t> pids_;
    std::unordered_map<std::string, uint64_t> user_ips_, kernel_ips_;
    std::vector<uint64_t> ips_;
    uint64_t sample_index_ = 0;

    uint32_t thread_of(const std::string& comm) {
        auto [it, inserted] = pids_.try_emplace(comm, static_cast<uint32_t>(pids_.size() + 1));
        if (inserted)
            profile_.threads.push_back(
                Thread{.pid = it->second, .tid = it->second, .ppid = 0, .comm = comm});
        return it->second;
    }

    // Symbols are appended in increasing address order, so both tables stay sorted.
    uint64_t user_ip(std::string_view name) {
        auto [it, inserted] = user_ips_.try_emplace(std::string(name), 0);
        if (inserted) {
            std::vector<DsoSymbol>& symbols = profile_.dsos[0].symbols;
            const uint64_t start = symbols.size() * kSymbolSize;
            DsoSymbol sym;
            sym.start = start;
            sym.size = kSymbolSize;
            sym.name = it->first;
            symbols.push_back(std::move(sym));
            it->second = kFoldedUserBase + start + kSymbolSize / 2;
        }
        return it->second;
    }

    uint64_t kernel_ip(std::string_view name) {
        auto [it, inserted] = kernel_ips_.try_emplace(std::string(name), 0);
        if (inserted) {
            const uint64_t addr = kFoldedKernelBase + profile_.kernel_symbols.size() * kSymbolSize;
            profile_.kernel_symbols.push_back(
                KernelSymbol{.addr = addr, .name = it->first, .module = "", .type = 't'});
            it->second = addr + kSymbolSize / 2;
        }
        return it->second;
    }
};

}  // namespace

Profile import_folded_text(std::string_view text) {
    FoldedImporter importer;
    uint64_t line_no = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        importer.add_line(text.substr(0, nl), ++line_no);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return importer.finish();
}

Profile import_folded(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("cannot open {}: check the path and its permissions", path));
    std::ostringstream text;
    text << in.rdbuf();
    Profile p = import_folded_text(text.str());
    p.meta.target = "folded " + path;
    return p;
}

}  // namespace kprof
