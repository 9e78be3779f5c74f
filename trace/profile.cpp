#include "trace/profile.hpp"

#include <algorithm>

namespace kprof {
namespace {

uint64_t hash_stack(std::span<const uint64_t> ips, uint32_t kernel_depth, uint32_t pid,
                    uint32_t generation) {
    // FNV-1a over the words, then a final mix: cheap and good enough for interning.
    uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](uint64_t v) {
        h ^= v;
        h *= 1099511628211ULL;
    };
    mix(kernel_depth);
    mix((uint64_t{pid} << 32) | generation);
    for (uint64_t ip : ips) mix(ip);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

}  // namespace

StackId StackTable::intern(std::span<const uint64_t> ips, uint32_t kernel_depth, uint32_t pid,
                           uint32_t generation) {
    // Kernel-only stacks are shared by every address space.
    if (kernel_depth == ips.size()) pid = generation = 0;
    const uint64_t h = hash_stack(ips, kernel_depth, pid, generation);
    auto [first, last] = index_.equal_range(h);
    for (auto it = first; it != last; ++it) {
        const StackEntry& e = entries_[it->second];
        if (e.depth == ips.size() && e.kernel_depth == kernel_depth && e.pid == pid &&
            e.generation == generation &&
            std::equal(ips.begin(), ips.end(), ips_.begin() + static_cast<ptrdiff_t>(e.offset)))
            return it->second;
    }
    const StackId id = append(ips, kernel_depth, pid, generation);
    index_.emplace(h, id);
    return id;
}

StackId StackTable::append(std::span<const uint64_t> ips, uint32_t kernel_depth, uint32_t pid,
                           uint32_t generation) {
    if (kernel_depth == ips.size()) pid = generation = 0;
    StackEntry e;
    e.offset = ips_.size();
    e.depth = static_cast<uint32_t>(ips.size());
    e.kernel_depth = std::min<uint32_t>(kernel_depth, e.depth);
    e.pid = pid;
    e.generation = generation;
    ips_.insert(ips_.end(), ips.begin(), ips.end());
    entries_.push_back(e);
    return static_cast<StackId>(entries_.size() - 1);
}

StackView StackTable::get(StackId id) const {
    const StackEntry& e = entries_.at(id);
    return StackView{
        .ips = std::span<const uint64_t>(ips_.data() + e.offset, e.depth),
        .kernel_depth = e.kernel_depth,
        .pid = e.pid,
        .generation = e.generation,
    };
}

void StackTable::clear() {
    entries_.clear();
    ips_.clear();
    index_.clear();
}

uint64_t Profile::total_lost() const {
    uint64_t n = 0;
    for (const CpuLoss& l : losses) n += l.lost_records + l.lost_samples;
    return n;
}

const Thread* Profile::find_thread(uint32_t tid) const {
    const Thread* found = nullptr;
    for (const Thread& t : threads)
        if (t.tid == tid) found = &t;  // the last one wins: tids are reused
    return found;
}

}  // namespace kprof
