// Event names as the user writes them (-e cpu-clock, -e cycles, -e net:net_dev_xmit)
// resolved to perf_event_attr type/config. Tracepoint ids come from tracefs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::collector {

enum class EventKind { kSoftware, kHardware, kTracepoint };

struct EventSpec {
    std::string name;  // as the user wrote it (canonical for aliases: "cs" -> "context-switches")
    EventKind kind = EventKind::kSoftware;
    uint32_t type = 0;  // PERF_TYPE_*
    uint64_t config = 0;

    auto operator<=>(const EventSpec&) const = default;
};

// A tracefs mount: /sys/kernel/tracing on a live system, any directory with the same
// layout (available_events, events/SYS/NAME/id) in tests.
class Tracefs {
  public:
    explicit Tracefs(std::string root) : root_(std::move(root)) {}
    // The system's tracefs: /sys/kernel/tracing, mounted there if it is not (root only),
    // else /sys/kernel/debug/tracing. Throws Error saying how to mount it.
    static Tracefs system();

    const std::string& root() const { return root_; }
    // The numeric id of SYS:NAME, nullopt if there is no such tracepoint. Throws Error
    // when the id file exists but cannot be read (permissions).
    std::optional<uint64_t> tracepoint_id(std::string_view system, std::string_view name) const;
    // Every "sys:name" tracefs knows (available_events, else a directory walk).
    std::vector<std::string> all_tracepoints() const;

  private:
    std::string root_;
};

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// Up to `limit` candidates closest to `wanted` (by edit distance, best first; a candidate
// containing `wanted` as a substring counts as close), none farther than a third of the
// name's length (at least 2 edits).
std::vector<std::string> close_matches(std::string_view wanted,
                                       const std::vector<std::string>& candidates,
                                       size_t limit = 5);

// The software and hardware event names kprof knows, canonical names first.
std::vector<std::string> builtin_event_names();

// Resolves one -e name. Unknown names throw Error listing close matches (builtin names
// and tracepoints). `tracefs` is only consulted for names with a ':'; it may be null when
// the caller knows there are none.
EventSpec resolve_event(std::string_view name, const Tracefs* tracefs);

// Splits "a,b" lists as given to -e (tracepoint names never contain commas).
std::vector<std::string> split_list(std::string_view text);

}  // namespace kprof::collector
