#include "collector/profile_builder.hpp"

#include <algorithm>
#include <tuple>

namespace kprof::collector {
namespace {

uint64_t stack_hash(std::span<const uint64_t> ips, uint32_t kernel_depth) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ kernel_depth;
    for (uint64_t ip : ips) {
        h ^= ip;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

}  // namespace

ProfileBuilder::ProfileBuilder(Profile& profile, std::unordered_map<uint64_t, int> event_by_id,
                               const std::vector<uint32_t>& cpus)
    : profile_(profile), event_by_id_(std::move(event_by_id)) {
    for (uint32_t cpu : cpus) loss_for(cpu);
}

CpuLoss& ProfileBuilder::loss_for(uint32_t cpu) {
    auto [it, inserted] = loss_index_.try_emplace(cpu, profile_.losses.size());
    if (inserted) profile_.losses.push_back(CpuLoss{.cpu = cpu});
    return profile_.losses[it->second];
}

uint32_t ProfileBuilder::generation(uint32_t pid) const {
    auto it = generation_.find(pid);
    return it == generation_.end() ? 0 : it->second;
}

DsoId ProfileBuilder::intern_dso(std::string_view path) {
    auto it = dso_index_.find(std::string(path));
    if (it != dso_index_.end()) return it->second;
    const DsoId id = static_cast<DsoId>(profile_.dsos.size());
    Dso d;
    d.path = std::string(path);
    profile_.dsos.push_back(std::move(d));
    dso_index_.emplace(std::string(path), id);
    if (path == "[vdso]") vdso_ = id;
    return id;
}

Thread& ProfileBuilder::thread_for(uint32_t pid, uint32_t tid) {
    auto it = thread_index_.find(tid);
    if (it != thread_index_.end()) {
        Thread& t = profile_.threads[it->second];
        if (t.exit_ns == 0 && t.pid == pid) return t;
    }
    // New, or the tid was reused after the old thread exited.
    Thread t;
    t.pid = pid;
    t.tid = tid;
    profile_.threads.push_back(std::move(t));
    thread_index_[tid] = profile_.threads.size() - 1;
    return profile_.threads.back();
}

void ProfileBuilder::add_thread(uint32_t pid, uint32_t tid, uint32_t ppid, std::string_view comm,
                                uint64_t time_ns) {
    Thread& t = thread_for(pid, tid);
    t.ppid = ppid;
    t.comm = std::string(comm);
    if (t.start_ns == 0) t.start_ns = time_ns;
}

void ProfileBuilder::add_mapping(uint32_t pid, const ProcMapping& m, uint64_t time_ns) {
    MmapRecord r;
    r.pid = r.tid = pid;
    r.addr = m.start;
    r.len = m.len;
    r.pgoff = m.pgoff;
    r.filename = m.path;
    r.sid.time = time_ns;
    add_mmap(r);
}

void ProfileBuilder::add(const Record& record, uint32_t ring_cpu) {
    std::visit(
        [&](const auto& r) {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, SampleRecord>) {
                add_sample(r);
            } else if constexpr (std::is_same_v<T, MmapRecord>) {
                add_mmap(r);
            } else if constexpr (std::is_same_v<T, CommRecord>) {
                add_comm(r);
            } else if constexpr (std::is_same_v<T, TaskRecord>) {
                add_task(r);
            } else if constexpr (std::is_same_v<T, LostRecord>) {
                loss_for(ring_cpu).lost_records += r.lost;
            } else if constexpr (std::is_same_v<T, LostSamplesRecord>) {
                loss_for(ring_cpu).lost_samples += r.lost;
            } else if constexpr (std::is_same_v<T, ThrottleRecord>) {
                if (r.unthrottle)
                    ++loss_for(ring_cpu).unthrottles;
                else
                    ++loss_for(ring_cpu).throttles;
            } else if constexpr (std::is_same_v<T, UnknownRecord>) {
                ++counters_.unknown_records;
            } else {
                ++counters_.malformed_records;
            }
        },
        record);
    if (streaming_ || unwinder_) {
        latest_ns_ = std::max(latest_ns_, record_time(record));
        if (streaming_) retire_exited();
        // As for streamed spaces: a sample may come a little after its process's exit.
        while (unwinder_ && !unwind_exits_.empty() &&
               unwind_exits_.front().first + kRetireDelayNs <= latest_ns_) {
            unwinder_->drop(unwind_exits_.front().second);
            unwind_exits_.pop_front();
        }
    }
}

void ProfileBuilder::unwind_user_stacks(UserUnwinder& unwinder, uint64_t regs_mask,
                                        uint32_t max_frames) {
    unwinder_ = &unwinder;
    regs_mask_ = regs_mask;
    max_user_frames_ = max_frames;
}

void ProfileBuilder::note_mapping(const Mapping& m) {
    if (unwinder_ == nullptr) return;
    unwinder_->add_mapping(space_key(m.pid, m.generation), m.pid,
                           UnwindMapping{.start = m.start,
                                         .len = m.len,
                                         .pgoff = m.pgoff,
                                         .time_ns = m.time_ns,
                                         .path = profile_.dsos[m.dso].path});
}

// The process's image is gone (exit, or exec into a new one).
void ProfileBuilder::process_ended(uint32_t pid, uint64_t time_ns) {
    if (streaming_) mark_exited(pid, time_ns);
    if (unwinder_) unwind_exits_.emplace_back(time_ns, space_key(pid, generation(pid)));
}

// Replaces the user frames of the stack in ips_ (the sampled user ip at most: the kernel
// walks no user frames in dwarf mode) by those unwound from the sample's copies.
void ProfileBuilder::unwind_user(const SampleRecord& s, uint32_t kernel_depth) {
    uint64_t words[64];
    const size_t n = std::min<size_t>(s.user_regs.size() / 8, std::size(words));
    for (size_t i = 0; i < n; ++i) words[i] = s.user_reg(i);
    UserRegisters regs;
    if (!user_registers_from_perf(regs_mask_, std::span<const uint64_t>(words, n), regs)) return;
    ips_.resize(std::min<size_t>(kernel_depth, ips_.size()));
    const uint32_t room = kMaxStackDepth - static_cast<uint32_t>(ips_.size());
    // Mappings reach the unwinder in time order: the latest added are the ones in force.
    unwinder_->unwind(space_key(s.pid, generation(s.pid)), regs, s.user_stack,
                      std::min(max_user_frames_, room), ips_);
}

void ProfileBuilder::add_sample(const SampleRecord& s) {
    auto ev = event_by_id_.find(s.id);
    if (ev == event_by_id_.end() || ev->second < 0 ||
        static_cast<size_t>(ev->second) >= profile_.events.size()) {
        ++counters_.unknown_event_samples;
        return;
    }
    uint32_t kernel_depth = 0;
    callchain_to_stack(s, ips_, kernel_depth, kMaxStackDepth);
    if (unwinder_ && s.regs_abi == kRegsAbi64 && !s.user_regs.empty()) unwind_user(s, kernel_depth);
    Sample out;
    out.time_ns = s.time;
    out.period = s.period;
    out.pid = s.pid;
    out.tid = s.tid;
    out.cpu = static_cast<uint16_t>(s.cpu);
    out.event = static_cast<uint16_t>(ev->second);
    out.stack = streaming_ ? intern_streaming(kernel_depth, s.pid)
                           : profile_.stacks.intern(ips_, kernel_depth, s.pid, generation(s.pid));
    profile_.samples.push_back(out);
    ++profile_.events[static_cast<size_t>(ev->second)].samples;
    ++counters_.samples;
}

void ProfileBuilder::add_mmap(const MmapRecord& m) {
    // Data mappings and the kernel's own (pid -1) cannot hold user frames.
    if (!m.executable || m.pid == UINT32_MAX || m.len == 0) return;
    Mapping map;
    map.pid = m.pid;
    map.generation = generation(m.pid);
    map.start = m.addr;
    map.len = m.len;
    map.pgoff = m.pgoff;
    map.time_ns = m.sid.time;
    map.dso = intern_dso(m.filename.empty() ? std::string_view("//anon") : m.filename);
    note_mapping(map);
    if (streaming_) {
        add_space_mapping(spaces_[space_key(map.pid, map.generation)], map);
        return;
    }
    space_mappings_[space_key(map.pid, map.generation)].push_back(profile_.mappings.size());
    profile_.mappings.push_back(map);
}

void ProfileBuilder::add_comm(const CommRecord& c) {
    if (c.exec) {
        // A new program image: its stacks and mappings must not mix with the old one's.
        process_ended(c.pid, c.sid.time);
        ++generation_[c.pid];
    }
    Thread& t = thread_for(c.pid, c.tid);
    t.comm = std::string(c.comm);
    if (t.start_ns == 0) t.start_ns = c.sid.time;
}

void ProfileBuilder::add_task(const TaskRecord& r) {
    if (r.exit) {
        auto it = thread_index_.find(r.tid);
        if (it != thread_index_.end()) profile_.threads[it->second].exit_ns = r.time;
        // The process ends with its main thread; where that left first, with the rest.
        auto leader = thread_index_.find(r.pid);
        if (r.tid == r.pid ||
            (leader != thread_index_.end() && profile_.threads[leader->second].exit_ns != 0))
            process_ended(r.pid, r.time);
        return;
    }
    std::string comm;
    if (auto parent = thread_index_.find(r.ptid); parent != thread_index_.end())
        comm = profile_.threads[parent->second].comm;
    const bool new_process = r.pid == r.tid && r.pid != r.ppid;
    if (new_process) {
        // A reused pid is a new address space: give it a generation of its own.
        if (auto g = generation_.find(r.pid); g != generation_.end()) ++g->second;
        if (streaming_) {
            // The pid's old process is still held (it exited less than a second ago).
            if (spaces_.contains(space_key(r.pid, generation(r.pid)))) ++generation_[r.pid];
            const uint32_t gen = generation(r.pid);
            auto parent = spaces_.find(space_key(r.ppid, generation(r.ppid)));
            if (parent != spaces_.end()) {
                const std::vector<Mapping> copy = parent->second.mappings;
                Space& mine = spaces_[space_key(r.pid, gen)];
                for (Mapping m : copy) {
                    m.pid = r.pid;
                    m.generation = gen;
                    m.time_ns = r.time;
                    add_space_mapping(mine, m);
                    note_mapping(m);
                }
            }
        }
        // fork() copies the parent's mappings; the kernel reports no MMAP2 for them.
        const uint32_t gen = generation(r.pid);
        auto parent_maps = space_mappings_.find(space_key(r.ppid, generation(r.ppid)));
        if (!streaming_ && parent_maps != space_mappings_.end()) {
            const std::vector<size_t> copy = parent_maps->second;
            auto& mine = space_mappings_[space_key(r.pid, gen)];
            for (size_t i : copy) {
                Mapping m = profile_.mappings[i];
                m.pid = r.pid;
                m.generation = gen;
                m.time_ns = r.time;
                mine.push_back(profile_.mappings.size());
                profile_.mappings.push_back(m);
                note_mapping(m);
            }
        }
    }
    // A tid reused after exit, or reported twice, gets a fresh entry via thread_for.
    if (auto it = thread_index_.find(r.tid); it != thread_index_.end()) {
        Thread& old = profile_.threads[it->second];
        if (old.exit_ns == 0 && old.start_ns != 0 && old.start_ns < r.time) old.exit_ns = r.time;
    }
    Thread& t = thread_for(r.pid, r.tid);
    t.ppid = r.ppid;
    if (t.comm.empty()) t.comm = comm;
    t.start_ns = r.time;
}

void ProfileBuilder::finalize() {
    if (streaming_) {
        std::vector<uint64_t> keys;
        for (const auto& [key, space] : spaces_) keys.push_back(key);
        for (uint64_t key : keys) retire(key);
        exits_.clear();
    }
    std::sort(profile_.mappings.begin(), profile_.mappings.end(),
              [](const Mapping& a, const Mapping& b) {
                  return std::tie(a.pid, a.generation, a.start, a.time_ns) <
                         std::tie(b.pid, b.generation, b.start, b.time_ns);
              });
    space_mappings_.clear();
}

void ProfileBuilder::stream_stacks() {
    streaming_ = true;
}

void ProfileBuilder::clear_fresh_stacks() {
    fresh_base_ += static_cast<StackId>(fresh_.size());
    fresh_.clear();
}

StackId ProfileBuilder::intern_streaming(uint32_t kernel_depth, uint32_t pid) {
    const std::span<const uint64_t> ips(ips_);
    const uint32_t depth = static_cast<uint32_t>(ips.size());
    kernel_depth = std::min(kernel_depth, depth);
    // Kernel-only stacks are shared by every address space, as in StackTable::intern.
    const bool kernel_only = kernel_depth == depth;
    const uint32_t gen = kernel_only ? 0 : generation(pid);
    if (kernel_only) pid = 0;
    Space& space = kernel_only ? kernel_only_ : spaces_[space_key(pid, gen)];
    space.exited_ns = 0;  // a sample after the main thread's exit: other threads still run

    const uint64_t h = stack_hash(ips, kernel_depth);
    auto [first, last] = space.stacks.equal_range(h);
    for (auto it = first; it != last; ++it) {
        const SpaceStack& e = it->second;
        if (e.depth == depth && e.kernel_depth == kernel_depth &&
            std::equal(ips.begin(), ips.end(), space.ips.begin() + e.offset))
            return e.id;
    }
    const SpaceStack e{fresh_base_ + static_cast<StackId>(fresh_.size()),
                       static_cast<uint32_t>(space.ips.size()), depth, kernel_depth};
    space.ips.insert(space.ips.end(), ips.begin(), ips.end());
    space.stacks.emplace(h, e);
    fresh_.append(ips, kernel_depth, pid, gen);
    if (!kernel_only) gather_user_frames(space, ips.subspan(kernel_depth));
    return e.id;
}

void ProfileBuilder::add_space_mapping(Space& space, const Mapping& m) {
    for (const Mapping& old : space.mappings)
        if (m.start < old.start + old.len && old.start < m.start + m.len) space.overlaps = true;
    space.mappings.push_back(m);
    space.hit.push_back(false);
}

// The same rule as the symbolizer and the resolver (symbols/resolve.hpp): of the mappings
// holding ip, the one mapped last.
void ProfileBuilder::gather_user_frames(Space& space, std::span<const uint64_t> user) {
    const std::vector<Mapping>& maps = space.mappings;
    for (size_t i = 0; i < user.size(); ++i) {
        const uint64_t ip = user[i];
        size_t found = maps.size();
        if (ip < kKernelAddressStart) {
            const size_t hint = space.last_found;
            if (!space.overlaps && hint < maps.size() && ip - maps[hint].start < maps[hint].len) {
                found = hint;
            } else {
                for (size_t m = 0; m < maps.size(); ++m)
                    if (ip - maps[m].start < maps[m].len &&
                        (found == maps.size() || maps[m].time_ns >= maps[found].time_ns))
                        found = m;
            }
        }
        if (found == maps.size()) {
            ++addresses_.unmapped_frames;
            continue;
        }
        space.last_found = found;
        space.hit[found] = true;
        const Mapping& m = maps[found];
        if (addresses_.by_dso.size() <= m.dso) addresses_.by_dso.resize(m.dso + 1);
        const uint64_t relative = ip - m.start + m.pgoff;
        UserAddress& a = addresses_.by_dso[m.dso][m.dso == vdso_ ? ip - m.start : relative];
        a.relative = relative;
        ++a.frames;
        if (i > 0) a.caller = true;
    }
}

void ProfileBuilder::mark_exited(uint32_t pid, uint64_t time_ns) {
    const uint64_t key = space_key(pid, generation(pid));
    auto it = spaces_.find(key);
    if (it == spaces_.end()) return;
    it->second.exited_ns = std::max<uint64_t>(time_ns, 1);
    exits_.emplace_back(it->second.exited_ns, key);
}

// Spaces dead for a second: records are put in time order one drain round at a time, so a
// sample of the process may still come a little after its exit record.
void ProfileBuilder::retire_exited() {
    while (!exits_.empty() && exits_.front().first + kRetireDelayNs <= latest_ns_) {
        const auto [time, key] = exits_.front();
        exits_.pop_front();
        auto it = spaces_.find(key);
        if (it != spaces_.end() && it->second.exited_ns == time) retire(key);
    }
}

// Only the mappings a stack hit matter to the trace: analysis resolves nothing else.
void ProfileBuilder::retire(uint64_t key) {
    auto it = spaces_.find(key);
    if (it == spaces_.end()) return;
    const Space& space = it->second;
    for (size_t i = 0; i < space.mappings.size(); ++i)
        if (space.hit[i]) profile_.mappings.push_back(space.mappings[i]);
    spaces_.erase(it);
}

}  // namespace kprof::collector
