// Turns decoded ring records into the trace model: samples with interned stacks,
// threads from COMM/FORK/EXIT, mappings from MMAP2 (dsos interned by path), and loss
// counts. Pure bookkeeping, no kernel: tests feed it synthetic records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/records.hpp"
#include "collector/target.hpp"
#include "trace/profile.hpp"

namespace kprof::collector {

struct BuilderCounters {
    uint64_t samples = 0;
    uint64_t unknown_event_samples = 0;  // sample id matched no event (dropped)
    uint64_t unknown_records = 0;        // record types skipped
    uint64_t malformed_records = 0;

    auto operator<=>(const BuilderCounters&) const = default;
};

class ProfileBuilder {
  public:
    // `profile.events` must already list the events (sample counts are added to them).
    // `cpus` are the recorded CPUs; profile.losses gets one entry for each.
    ProfileBuilder(Profile& profile, std::unordered_map<uint64_t, int> event_by_id,
                   const std::vector<uint32_t>& cpus);

    // `ring_cpu` is the CPU of the ring the record came from (losses are per ring).
    void add(const Record& record, uint32_t ring_cpu);

    // State that existed before recording started (-p, -a): from /proc.
    void add_thread(uint32_t pid, uint32_t tid, uint32_t ppid, std::string_view comm,
                    uint64_t time_ns);
    void add_mapping(uint32_t pid, const ProcMapping& mapping, uint64_t time_ns);

    // Current exec generation of a pid (0 until its first exec is seen).
    uint32_t generation(uint32_t pid) const;
    const BuilderCounters& counters() const { return counters_; }
    // Sorts the mappings as the trace model wants them; call once, after the last add().
    void finalize();

  private:
    void add_sample(const SampleRecord& s);
    void add_mmap(const MmapRecord& m);
    void add_comm(const CommRecord& c);
    void add_task(const TaskRecord& t);
    CpuLoss& loss_for(uint32_t cpu);
    DsoId intern_dso(std::string_view path);
    Thread& thread_for(uint32_t pid, uint32_t tid);
    static uint64_t space_key(uint32_t pid, uint32_t generation) {
        return (uint64_t{pid} << 32) | generation;
    }

    Profile& profile_;
    std::unordered_map<uint64_t, int> event_by_id_;
    std::unordered_map<uint32_t, size_t> loss_index_;    // cpu -> index in profile.losses
    std::unordered_map<uint32_t, uint32_t> generation_;  // pid -> exec generation
    std::unordered_map<uint32_t, size_t> thread_index_;  // tid -> latest Thread
    std::unordered_map<std::string, DsoId> dso_index_;   // path -> dso
    std::unordered_map<uint64_t, std::vector<size_t>> space_mappings_;  // (pid,gen) -> maps
    std::vector<uint64_t> ips_;  // scratch for callchain_to_stack
    BuilderCounters counters_;
};

}  // namespace kprof::collector
