// The trace model: everything a recording holds, interned (samples hold a stack id,
// stacks hold instruction pointers, mappings hold a dso id). Every layer below the
// collector reads this; the file format (trace/format.hpp) stores exactly this.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace kprof {

using StackId = uint32_t;
using DsoId = uint32_t;
inline constexpr DsoId kNoDso = UINT32_MAX;

// Addresses at or above this are kernel text on x86_64.
inline constexpr uint64_t kKernelAddressStart = 0xffff800000000000ULL;

// Hard limit of frames per stack the format accepts (perf's own max is 127 by default,
// sysctl kernel.perf_event_max_stack caps it at 1024 kernel + user).
inline constexpr uint32_t kMaxStackDepth = 4096;

struct TraceMeta {
    std::string hostname;
    std::string kernel_release;  // uname -r at record time
    std::string arch;            // uname -m
    std::string command_line;    // the kprof command line that recorded
    std::string target;          // "workload socket,write", "command ls -l", "pid 42", "system"
    std::string kprof_version;
    std::string source_format;     // "kprof", or "perf.data", "perf-script", "folded" for imports
    uint64_t start_time_ns = 0;    // CLOCK_REALTIME at start, ns since the epoch
    uint64_t duration_ns = 0;      // first to last sample (or recording wall time)
    uint64_t first_sample_ns = 0;  // perf clock (CLOCK_MONOTONIC) of the start; sample
                                   // times are on this clock
    uint32_t nr_cpus = 0;
    int32_t exit_status = 0;           // target workload/command exit status (wait status decoded:
                                       // >=0 exit code, <0 -signal); 0 when not applicable
    bool interrupted = false;          // stopped by SIGINT/SIGTERM
    bool kptr_restricted = false;      // kallsyms addresses were all zero at record time
    double collector_cpu_seconds = 0;  // user+sys CPU time the collector itself used

    auto operator<=>(const TraceMeta&) const = default;
};

struct EventDesc {
    std::string name;   // as the user wrote it: "cpu-clock", "net:net_dev_xmit"
    uint32_t type = 0;  // perf_event_attr.type
    uint64_t config = 0;
    bool use_freq = false;        // sample_freq (true) or sample_period (false)
    uint64_t freq_or_period = 0;  // -F HZ or -c PERIOD
    uint64_t samples = 0;         // samples of this event stored in the trace

    auto operator<=>(const EventDesc&) const = default;
};

// Loss accounting, per CPU: never silent.
struct CpuLoss {
    uint32_t cpu = 0;
    uint64_t lost_records = 0;  // PERF_RECORD_LOST: records dropped by a full ring
    uint64_t lost_samples = 0;  // PERF_RECORD_LOST_SAMPLES
    uint64_t throttles = 0;     // PERF_RECORD_THROTTLE
    uint64_t unthrottles = 0;

    auto operator<=>(const CpuLoss&) const = default;
};

struct KernelSymbol {
    uint64_t addr = 0;
    std::string name;
    std::string module;  // "" for vmlinux, else the [module] name without brackets
    char type = 't';     // kallsyms type letter

    auto operator<=>(const KernelSymbol&) const = default;
};

// A binary (executable, shared library, vDSO, kernel module) and the symbols of it that
// the recording's stacks actually hit, resolved at record time.
struct DsoSymbol {
    uint64_t start = 0;  // offset relative to the dso's load base (ELF symbol value
                         // minus the first PT_LOAD's p_vaddr adjusted: see symbols/resolve.hpp)
    uint64_t size = 0;
    std::string name;
    std::string file;  // source file of the address, when DWARF was available
    uint32_t line = 0;

    auto operator<=>(const DsoSymbol&) const = default;
};

// One level of source position at an address, from DWARF at record time.
struct DsoSourceFrame {
    std::string function;  // the inlined function (linkage name when DWARF gives one)
    std::string file;
    uint32_t line = 0;

    auto operator<=>(const DsoSourceFrame&) const = default;
};

// What DWARF says about one hit address of a dso: innermost first, each function inlined
// at it with its position, and last the containing function (its DsoSymbol) at the line
// of the address (for return addresses: of the call).
struct DsoAddressSource {
    uint64_t addr = 0;  // in the same relative space as DsoSymbol::start: the stack's ip
    std::vector<DsoSourceFrame> frames;

    auto operator<=>(const DsoAddressSource&) const = default;
};

struct Dso {
    std::string path;                // as in the MMAP2 record ("[vdso]", "/usr/lib/...libc.so.6")
    std::string build_id;            // hex, "" if unknown
    bool deleted = false;            // the file was gone or replaced at record time
    bool symbolized = false;         // symbols were looked up (false: frames show [unknown])
    std::vector<DsoSymbol> symbols;  // sorted by start
    std::vector<DsoAddressSource> sources;  // sorted by addr; empty without DWARF

    auto operator<=>(const Dso&) const = default;
};

// A user-space mapping of one process image. `generation` counts execs of the pid, so
// that mappings and stacks of the image before an exec are not confused with after.
struct Mapping {
    uint32_t pid = 0;
    uint32_t generation = 0;
    uint64_t start = 0;
    uint64_t len = 0;
    uint64_t pgoff = 0;
    uint64_t time_ns = 0;  // when it was mapped (perf clock)
    DsoId dso = kNoDso;

    auto operator<=>(const Mapping&) const = default;
};

struct Thread {
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t ppid = 0;
    std::string comm;  // last name seen for the thread
    uint64_t start_ns = 0;
    uint64_t exit_ns = 0;

    auto operator<=>(const Thread&) const = default;
};

// One unique call stack: ips leaf first; the first kernel_depth ips are kernel frames,
// the rest user frames. Stacks with user frames belong to one address space
// (pid, generation); kernel-only stacks have pid 0 and are shared by every process.
struct StackEntry {
    uint64_t offset = 0;  // into StackTable::ips_
    uint32_t depth = 0;
    uint32_t kernel_depth = 0;
    uint32_t pid = 0;
    uint32_t generation = 0;

    auto operator<=>(const StackEntry&) const = default;
};

struct StackView {
    std::span<const uint64_t> ips;  // leaf first
    uint32_t kernel_depth = 0;
    uint32_t pid = 0;
    uint32_t generation = 0;
    std::span<const uint64_t> kernel_ips() const { return ips.first(kernel_depth); }
    std::span<const uint64_t> user_ips() const { return ips.subspan(kernel_depth); }
};

// Each unique stack stored once. intern() returns the id of an equal stack if there is one.
class StackTable {
  public:
    StackId intern(std::span<const uint64_t> ips, uint32_t kernel_depth, uint32_t pid,
                   uint32_t generation);
    // Appends without interning (used by readers, which trust the file's uniqueness).
    StackId append(std::span<const uint64_t> ips, uint32_t kernel_depth, uint32_t pid,
                   uint32_t generation);
    StackView get(StackId id) const;
    size_t size() const { return entries_.size(); }
    const std::vector<StackEntry>& entries() const { return entries_; }
    const std::vector<uint64_t>& ips() const { return ips_; }
    void clear();
    bool operator==(const StackTable& o) const { return entries_ == o.entries_ && ips_ == o.ips_; }

  private:
    std::vector<StackEntry> entries_;
    std::vector<uint64_t> ips_;
    std::unordered_multimap<uint64_t, StackId> index_;  // hash -> candidates
};

struct Sample {
    uint64_t time_ns = 0;  // perf clock
    uint64_t period = 1;
    uint32_t pid = 0;
    uint32_t tid = 0;
    StackId stack = 0;
    uint16_t cpu = 0;
    uint16_t event = 0;  // index into Profile::events

    auto operator<=>(const Sample&) const = default;
};

struct Profile {
    TraceMeta meta;
    std::vector<EventDesc> events;
    std::vector<CpuLoss> losses;
    std::vector<KernelSymbol> kernel_symbols;  // sorted by addr
    std::vector<Dso> dsos;
    std::vector<Mapping> mappings;  // sorted by (pid, generation, start, time)
    std::vector<Thread> threads;
    StackTable stacks;
    std::vector<Sample> samples;     // in time order per CPU; not necessarily globally sorted
    uint64_t unresolved_frames = 0;  // user frames whose symbol could not be found

    uint64_t total_lost() const;
    const Thread* find_thread(uint32_t tid) const;  // linear-time helper for small traces
    bool operator==(const Profile&) const = default;
};

}  // namespace kprof
