// Messages for perf_event failures that say what to do (perf's "Consider tweaking
// /proc/sys/kernel/perf_event_paranoid"), never a bare errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "collector/events.hpp"
#include "collector/perf_system.hpp"

namespace kprof::collector {

struct OpenFailure {
    int err = 0;  // positive errno
    std::string event;
    EventKind kind = EventKind::kSoftware;
    int cpu = -1;
    pid_t pid = -1;  // -1: system-wide
    bool user_only = false;
    uint64_t freq = 0;  // when sampling by frequency, for EINVAL advice
    uint32_t max_stack = 0;
};

std::string open_failure_message(PerfSystem& sys, const OpenFailure& failure);
std::string mmap_failure_message(PerfSystem& sys, int err, size_t data_pages, size_t page_size,
                                 uint32_t cpu);

}  // namespace kprof::collector
