// What `kprof report` and `kprof tui` keep of a trace, decided before aggregation:
// sample filters (event, cpu, pid/tid/comm, time) and frame filters (kernel/user only,
// pprof's focus/ignore/hide). --percent-limit only changes what reports display.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/profile.hpp"

namespace kprof {

enum class WeightKind { samples, period };

// --time START,END: seconds from the start of the recording, or percent slices
// ("10%,20%"). Either end may be empty ("5," = from 5 s on).
struct TimeRange {
    double start = 0;
    double end = -1;  // < 0: to the end
    bool percent = false;

    static TimeRange parse(const std::string& spec);  // throws Error with the expected form
    auto operator<=>(const TimeRange&) const = default;
};

struct FilterOptions {
    std::vector<std::string> events{};  // event names; empty = all events
    std::vector<uint32_t> cpus{};
    std::vector<uint32_t> pids{};
    std::vector<uint32_t> tids{};
    std::vector<std::string> comms{};
    std::optional<TimeRange> time{};
    bool kernel_only = false;  // keep kernel frames only; drop stacks without any
    bool user_only = false;    // keep user frames only; drop stacks without any
    std::string focus{};       // ECMAScript regex: keep stacks with a frame matching it
    std::string ignore{};      // drop stacks with a frame matching it
    std::string hide{};        // remove matching frames from every stack
    double percent_limit = 0;  // display only: rows below this % of the total are omitted

    // One line for report headers, e.g. "event=cpu-clock cpu=0,1 focus=tcp_"; "none".
    std::string describe() const;
    bool operator==(const FilterOptions&) const = default;
};

// Parses "0,2,5-7" into {0,2,5,6,7}; throws Error on malformed lists.
std::vector<uint32_t> parse_id_list(const std::string& spec);

}  // namespace kprof
