// Low-level decoding of perf's recording format (perf.data, file and pipe mode, either
// endianness, zstd-compressed records) into plain tables. import/import_perf.cpp turns
// those into a Profile. Layouts follow tools/perf/Documentation/perf.data-file-format.txt
// and include/uapi/linux/perf_event.h.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "trace/profile.hpp"

namespace kprof::perf {

// The parts of perf_event_attr that decoding needs.
struct Attr {
    uint32_t type = 0;
    uint32_t size = 0;
    uint64_t config = 0;
    uint64_t sample_period = 0;  // or sample_freq when freq()
    uint64_t sample_type = 0;
    uint64_t read_format = 0;
    uint64_t flags = 0;  // the bitfield word after read_format, in little-endian bit order
    uint64_t branch_sample_type = 0;
    uint64_t sample_regs_user = 0;
    uint64_t sample_regs_intr = 0;
    std::vector<uint64_t> ids;  // sample ids of this event (one per CPU/thread)

    bool freq() const { return (flags >> 10) & 1; }
    bool sample_id_all() const { return (flags >> 18) & 1; }
};

// A SAMPLE record, decoded; its stack is ips[ips_offset, ips_offset + depth) of the
// Recording, leaf first, the first kernel_depth of them kernel frames.
struct RawSample {
    uint64_t time = 0;
    uint64_t seq = 0;  // position among all records, for files without timestamps
    uint64_t period = 1;
    uint64_t ips_offset = 0;
    uint32_t depth = 0;
    uint32_t kernel_depth = 0;
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t cpu = 0;
    uint32_t attr = 0;  // index into Recording::attrs
    // perf record --call-graph dwarf: the user registers, user_regs[regs_offset, +n) for
    // the n bits of the attr's sample_regs_user (regs_abi 0: the sample has none), and the
    // valid part of the user stack copy, user_stacks[stack_offset, +stack_size).
    uint64_t regs_abi = 0;
    uint64_t regs_offset = 0;
    uint64_t stack_offset = 0;
    uint32_t stack_size = 0;
};

enum class SideKind : uint8_t { mmap, comm, fork, exit };

// MMAP/MMAP2, COMM, FORK, EXIT: what threads and address spaces looked like over time.
struct SideEvent {
    SideKind kind = SideKind::comm;
    bool exec = false;      // COMM written by exec (PERF_RECORD_MISC_COMM_EXEC)
    bool has_time = false;  // sample_id_all with TIME
    uint64_t time = 0;
    uint64_t seq = 0;
    uint32_t pid = 0;
    uint32_t tid = 0;
    uint32_t ppid = 0;
    uint32_t ptid = 0;
    uint64_t addr = 0;  // mmap start
    uint64_t len = 0;
    uint64_t pgoff = 0;
    std::string name;      // mmap file name or comm
    std::string build_id;  // MMAP2 carrying a build id (hex)
};

struct Recording {
    bool pipe_mode = false;
    bool swapped = false;  // written on a machine of the other endianness
    std::vector<Attr> attrs;
    // Event names: EVENT_DESC (feature section) and EVENT_UPDATE NAME records, by sample id.
    std::unordered_map<uint64_t, std::string> id_names;
    std::vector<std::string> desc_names;  // EVENT_DESC names in attr order (files without ids)

    std::string hostname;
    std::string osrelease;
    std::string arch;
    std::string perf_version;
    std::vector<std::string> cmdline;
    uint32_t nr_cpus_avail = 0;
    uint32_t nr_cpus_online = 0;
    bool has_clock_data = false;
    uint64_t clock_wall_ns = 0;  // CLOCK_DATA: wall clock at clock_ref_ns of the perf clock
    uint64_t clock_ref_ns = 0;
    std::vector<std::pair<std::string, std::string>> build_ids;  // file name -> hex

    uint64_t kernel_text_addr = 0;  // _text at record time ([kernel.kallsyms]_text MMAP)

    std::vector<RawSample> samples;
    std::vector<uint64_t> ips;
    std::vector<uint64_t> user_regs;   // REGS_USER words of the samples
    std::vector<uint8_t> user_stacks;  // STACK_USER copies of the samples
    std::vector<SideEvent> side;
    std::map<uint32_t, CpuLoss> losses;
    bool all_timed = true;  // every sample and side event carries a timestamp

    uint64_t records = 0;
    uint64_t unknown_records = 0;   // record types skipped by size
    uint64_t truncated_stacks = 0;  // callchains cut at kMaxStackDepth
};

// True when `head` starts with perf's magic ("PERFILE2" in either byte order).
bool is_perf_magic(std::span<const uint8_t> head);

// Decodes a whole perf.data image. Throws TraceError (naming `name` and the byte offset)
// on anything malformed; never reads out of bounds nor allocates more than the input
// justifies.
Recording read_recording(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace kprof::perf
