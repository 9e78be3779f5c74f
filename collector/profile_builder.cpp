#include "collector/profile_builder.hpp"

#include <algorithm>
#include <tuple>

namespace kprof::collector {

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
    Sample out;
    out.time_ns = s.time;
    out.period = s.period;
    out.pid = s.pid;
    out.tid = s.tid;
    out.cpu = static_cast<uint16_t>(s.cpu);
    out.event = static_cast<uint16_t>(ev->second);
    out.stack = profile_.stacks.intern(ips_, kernel_depth, s.pid, generation(s.pid));
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
    space_mappings_[space_key(map.pid, map.generation)].push_back(profile_.mappings.size());
    profile_.mappings.push_back(map);
}

void ProfileBuilder::add_comm(const CommRecord& c) {
    if (c.exec) {
        // A new program image: its stacks and mappings must not mix with the old one's.
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
        return;
    }
    std::string comm;
    if (auto parent = thread_index_.find(r.ptid); parent != thread_index_.end())
        comm = profile_.threads[parent->second].comm;
    const bool new_process = r.pid == r.tid && r.pid != r.ppid;
    if (new_process) {
        // A reused pid is a new address space: give it a generation of its own.
        if (auto g = generation_.find(r.pid); g != generation_.end()) ++g->second;
        // fork() copies the parent's mappings; the kernel reports no MMAP2 for them.
        const uint32_t gen = generation(r.pid);
        auto parent_maps = space_mappings_.find(space_key(r.ppid, generation(r.ppid)));
        if (parent_maps != space_mappings_.end()) {
            const std::vector<size_t> copy = parent_maps->second;
            auto& mine = space_mappings_[space_key(r.pid, gen)];
            for (size_t i : copy) {
                Mapping m = profile_.mappings[i];
                m.pid = r.pid;
                m.generation = gen;
                m.time_ns = r.time;
                mine.push_back(profile_.mappings.size());
                profile_.mappings.push_back(m);
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
    std::sort(profile_.mappings.begin(), profile_.mappings.end(),
              [](const Mapping& a, const Mapping& b) {
                  return std::tie(a.pid, a.generation, a.start, a.time_ns) <
                         std::tie(b.pid, b.generation, b.start, b.time_ns);
              });
    space_mappings_.clear();
}

}  // namespace kprof::collector
