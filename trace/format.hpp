// The .kprof trace file: versioned, zstd-compressed, CRC-checked chunks, written while
// recording (memory stays bounded), finalized with a trailer, written under a temporary
// name and renamed; mode 0600. See man/kprof.1 (FILES) for the layout.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "trace/profile.hpp"

namespace kprof {

inline constexpr char kTraceMagic[8] = {'K', 'P', 'R', 'O', 'F', 'T', 'R', 'C'};
inline constexpr uint32_t kTraceVersion = 1;
inline constexpr const char* kDefaultTraceName = "kprof.data";

// Streams a recording to disk. Samples and new stacks go out in chunks as they come;
// everything else is written by finish(). Until finish() the data is in "<path>.tmp",
// which read_trace(..., {.recover = true}) can still read.
class TraceWriter {
  public:
    explicit TraceWriter(std::string path);  // creates "<path>.tmp" 0600; throws Error
    ~TraceWriter();                          // not finished: leaves the .tmp for --recover
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Optional, at the start of a recording: writes the metadata, events and kernel symbol
    // snapshot of `profile` right away, so that a recording cut short (SIGKILL, full disk)
    // is recovered with names. finish() writes the final versions; readers keep the last.
    void add_metadata(const Profile& profile);
    void add_samples(std::span<const Sample> samples);
    // Writes the stacks of `table` not yet written (ids are stable: append-only table).
    void add_stacks(const StackTable& table);
    // Writes every stack of `fresh` as the next ids, in order: for a recorder that interns
    // stacks itself and keeps only some of them in memory (it hands each new stack over
    // once, then clears `fresh`). Not to be mixed with add_stacks() of a growing table.
    void add_new_stacks(const StackTable& fresh);
    // Writes everything buffered as (possibly small) chunks now, so that a recording killed
    // later (SIGKILL, power loss) still has these samples for --recover.
    void sync();
    // Writes the rest of `profile` (its samples and stacks are ignored: they were streamed),
    // the trailer, fsyncs and renames "<path>.tmp" to path.
    void finish(const Profile& profile);
    const std::string& temp_path() const;
    uint64_t bytes_written() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct ReadOptions {
    bool recover = false;  // read every complete chunk of an unfinished (.tmp) file
};

struct ReadReport {
    bool finalized = true;  // trailer present and valid
    uint64_t chunks_read = 0;
    uint64_t bytes_discarded = 0;  // recover: the incomplete tail
    std::string note;              // what was lost, for the user
};

// Reads a whole trace; throws TraceError naming the offset on truncation or corruption.
Profile read_trace(const std::string& path, const ReadOptions& options = {},
                   ReadReport* report = nullptr);
// Same, from bytes in memory (fuzzing, tests).
Profile read_trace_bytes(std::span<const uint8_t> bytes, const std::string& name,
                         const ReadOptions& options = {}, ReadReport* report = nullptr);

// Writes a complete profile (samples and stacks included) in one go: imports, tests.
void write_trace(const std::string& path, const Profile& profile);

}  // namespace kprof
