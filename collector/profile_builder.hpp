// Turns decoded ring records into the trace model: samples with interned stacks,
// threads from COMM/FORK/EXIT, mappings from MMAP2 (dsos interned by path), and loss
// counts. Pure bookkeeping, no kernel: tests feed it synthetic records.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collector/records.hpp"
#include "collector/target.hpp"
#include "symbols/symbolize.hpp"
#include "symbols/unwind.hpp"
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

    // Long recordings (-a): memory bounded by the live processes, not by the run's length.
    // New stacks collect in fresh_stacks() instead of profile.stacks (their ids continue
    // the numbering across clear_fresh_stacks()), for the caller to write out
    // (TraceWriter::add_new_stacks) and clear; the user addresses of each new stack are
    // gathered into user_addresses() for symbolize_addresses() at the end; and a second
    // after a process exits or execs, its address space's stacks and mappings are dropped,
    // but for the mappings a stack hit, which go to profile.mappings. Call before add().
    void stream_stacks();
    const StackTable& fresh_stacks() const { return fresh_; }
    void clear_fresh_stacks();
    UserAddresses& user_addresses() { return addresses_; }
    size_t live_address_spaces() const { return spaces_.size(); }

    // --call-graph dwarf: the user frames of samples that carry user registers and a stack
    // copy (REGS_USER words for the bits of `regs_mask`) are unwound by `unwinder`, at
    // most `max_frames` of them; the builder tells it every process's executable mappings,
    // and a second after a process exits or execs, to forget them. Call before add().
    void unwind_user_stacks(UserUnwinder& unwinder, uint64_t regs_mask, uint32_t max_frames);

  private:
    void add_sample(const SampleRecord& s);
    void add_mmap(const MmapRecord& m);
    void add_comm(const CommRecord& c);
    void add_task(const TaskRecord& t);
    void unwind_user(const SampleRecord& s, uint32_t kernel_depth);
    void note_mapping(const Mapping& m);
    void process_ended(uint32_t pid, uint64_t time_ns);
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

    // Streaming mode (stream_stacks()).
    struct SpaceStack {
        StackId id;
        uint32_t offset;  // into Space::ips
        uint32_t depth;
        uint32_t kernel_depth;
    };
    // One address space (pid, generation) of a process still alive, or dead for less
    // than kRetireDelayNs.
    struct Space {
        std::vector<Mapping> mappings;  // in the order they were mapped
        std::vector<bool> hit;          // [i]: a user frame of some stack lies in mappings[i]
        std::unordered_multimap<uint64_t, SpaceStack> stacks;  // by hash
        std::vector<uint64_t> ips;
        uint64_t exited_ns = 0;  // when its process exited or exec'd (0: alive)
        bool overlaps = false;   // some mappings overlap: the latest mapped wins
        size_t last_found = 0;   // the mapping of the previous frame: usually this one's too
    };
    static constexpr uint64_t kRetireDelayNs = 1'000'000'000;
    StackId intern_streaming(uint32_t kernel_depth, uint32_t pid);
    void gather_user_frames(Space& space, std::span<const uint64_t> user);
    static void add_space_mapping(Space& space, const Mapping& m);
    void mark_exited(uint32_t pid, uint64_t time_ns);
    void retire(uint64_t key);
    void retire_exited();

    bool streaming_ = false;
    std::unordered_map<uint64_t, Space> spaces_;       // (pid, generation) -> live space
    Space kernel_only_;                                // kernel-only stacks, shared by all
    std::deque<std::pair<uint64_t, uint64_t>> exits_;  // (time, space key), time order
    uint64_t latest_ns_ = 0;                           // latest record time seen
    StackTable fresh_;
    StackId fresh_base_ = 0;
    UserAddresses addresses_;
    DsoId vdso_ = kNoDso;

    // DWARF unwinding (unwind_user_stacks()).
    UserUnwinder* unwinder_ = nullptr;
    uint64_t regs_mask_ = 0;
    uint32_t max_user_frames_ = 0;
    std::deque<std::pair<uint64_t, uint64_t>> unwind_exits_;  // (time, space key), time order
};

}  // namespace kprof::collector
