#include "analyzer/aggregate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <regex>
#include <unordered_map>

#include "analyzer/flat_map.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

std::regex compile_regex(const std::string& re, const char* option) {
    try {
        return std::regex(re, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
        throw Error(
            fmt::format("{} '{}': not a valid regular expression ({})", option, re, e.what()));
    }
}

// A frame of a trace stack in its address space: kernel frames are shared by all.
struct FrameKey {
    uint64_t ip = 0;
    uint64_t space = 0;  // (pid << 32 | generation) + 1 for user frames, 0 for kernel
    bool operator==(const FrameKey&) const = default;
};
struct FrameKeyHash {
    size_t operator()(const FrameKey& k) const {
        return U64Hash{}(k.ip ^ (k.space * 0x9e3779b97f4a7c15ULL));
    }
};

// Per-function answers to the frame filters, computed once per function.
struct FunctionMatch {
    int8_t focus = -1, ignore = -1, hide = -1;
};

}  // namespace

class AggregatedProfile::Builder {
  public:
    explicit Builder(AggregatedProfile& out) : out_(out) {}

    FunctionId intern_function(const Location& loc) {
        std::string key = loc.function;
        key += '\0';
        key += loc.module;
        key += loc.kernel ? 'k' : 'u';
        auto [it, inserted] = function_ids_.try_emplace(std::move(key), 0);
        if (inserted) {
            it->second = static_cast<FunctionId>(out_.functions_.size());
            out_.functions_.push_back(Function{loc.function, loc.module, loc.kernel});
        }
        return it->second;
    }

    uint32_t intern_comm(const std::string& comm) {
        auto [it, inserted] = comm_ids_.try_emplace(comm, 0);
        if (inserted) {
            it->second = static_cast<uint32_t>(out_.comms_.size());
            out_.comms_.push_back(comm);
        }
        return it->second;
    }

    // Adds weights (one per event) to the stack (comm, frames), merging equal stacks.
    void add(uint32_t comm, std::span<const FunctionId> frames, std::span<const uint64_t> w) {
        const uint32_t shape = intern_shape(frames);
        const size_t n_events = out_.events_.size();
        // The shape's stacks, one per comm, are chained from the shape: almost always one,
        // and a new shape's entry is the last one, in cache (a hash table of (shape, comm)
        // missed the cache on every stack).
        if (shape_first_stack_.size() <= shape) shape_first_stack_.resize(shape + 1, kNone);
        uint32_t slot = shape_first_stack_[shape];
        while (slot != kNone && out_.stack_comm_[slot] != comm) slot = stack_next_[slot];
        if (slot == kNone) {
            slot = static_cast<uint32_t>(out_.stack_comm_.size());
            out_.stack_comm_.push_back(comm);
            out_.stack_shape_.push_back(shape);
            out_.weights_.resize(out_.weights_.size() + n_events, 0);
            stack_next_.push_back(shape_first_stack_[shape]);
            shape_first_stack_[shape] = slot;
        }
        for (size_t e = 0; e < n_events; ++e) {
            out_.weights_[slot * n_events + e] += w[e];
            out_.events_[e].weight += w[e];
            if (frames.empty()) out_.events_[e].unattributed += w[e];
        }
    }

  private:
    AggregatedProfile& out_;
    std::unordered_map<std::string, FunctionId> function_ids_;
    std::unordered_map<std::string, uint32_t> comm_ids_;
    FlatMap<uint64_t, uint32_t, U64Hash> shape_head_;  // hash -> newest shape with it
    std::vector<uint32_t> shape_next_;                 // shape -> older shape, same hash
    std::vector<uint32_t> shape_first_stack_;          // shape -> its newest stack
    std::vector<uint32_t> stack_next_;                 // stack -> older stack of the same shape

    uint32_t intern_shape(std::span<const FunctionId> frames) {
        uint64_t h = 0x1234567ULL;
        for (FunctionId f : frames) h = mix64(h, f);
        const auto shape = static_cast<uint32_t>(out_.shape_count());
        auto [head, inserted] = shape_head_.try_emplace(h, shape);
        if (!inserted) {
            for (uint32_t c = *head; c != kNone; c = shape_next_[c]) {
                const auto existing = out_.shape_frames(c);
                if (std::equal(existing.begin(), existing.end(), frames.begin(), frames.end()))
                    return c;
            }
        }
        // New: it heads the chain of shapes with its hash.
        shape_next_.push_back(inserted ? kNone : *head);
        *head = shape;
        out_.frames_.insert(out_.frames_.end(), frames.begin(), frames.end());
        out_.frame_offset_.push_back(out_.frames_.size());
        return shape;
    }
};

std::vector<uint64_t> AggregatedProfile::shape_weights() const {
    const size_t ev = events_.size();
    std::vector<uint64_t> w(shape_count() * ev, 0);
    for (size_t s = 0; s < stack_count(); ++s)
        for (size_t e = 0; e < ev; ++e) w[stack_shape_[s] * ev + e] += weights_[s * ev + e];
    return w;
}

int AggregatedProfile::find_event(const std::string& name) const {
    for (size_t i = 0; i < events_.size(); ++i)
        if (events_[i].name == name) return static_cast<int>(i);
    return -1;
}

std::vector<FunctionId> AggregatedProfile::find_functions(const std::string& regex) const {
    const std::regex re = compile_regex(regex, "function pattern");
    std::vector<FunctionId> out;
    for (FunctionId f = 0; f < functions_.size(); ++f)
        if (std::regex_search(functions_[f].name, re)) out.push_back(f);
    return out;
}

FunctionId AggregatedProfile::find_function(const std::string& name) const {
    for (FunctionId f = 0; f < functions_.size(); ++f)
        if (functions_[f].name == name) return f;
    return kNoFunction;
}

AggregatedProfile AggregatedProfile::copy_header() const {
    AggregatedProfile out;
    out.events_ = events_;
    for (EventTotal& e : out.events_) e.samples = e.weight = e.unattributed = 0;
    out.functions_ = functions_;
    out.comms_ = comms_;
    out.weight_kind_ = weight_kind_;
    out.filters_ = filters_;
    out.filters_text_ = filters_text_;
    out.lost_samples_ = lost_samples_;
    out.unresolved_frames_ = unresolved_frames_;
    out.meta_ = meta_;
    return out;
}

void AggregatedProfile::push_stack_from(const AggregatedProfile& from, size_t stack,
                                        std::vector<uint32_t>& shape_map) {
    const auto f = from.frames(stack);
    uint32_t& shape = shape_map[from.stack_shape_[stack]];
    if (shape == UINT32_MAX) {
        shape = static_cast<uint32_t>(shape_count());
        frames_.insert(frames_.end(), f.begin(), f.end());
        frame_offset_.push_back(frames_.size());
    }
    stack_comm_.push_back(from.stack_comm_[stack]);
    stack_shape_.push_back(shape);
    for (size_t e = 0; e < events_.size(); ++e) {
        const uint64_t w = from.weight(stack, e);
        weights_.push_back(w);
        events_[e].weight += w;
        if (f.empty()) events_[e].unattributed += w;
    }
}

AggregatedProfile AggregatedProfile::focus_on(FunctionId function) const {
    AggregatedProfile out = subset([&](size_t s) {
        const auto f = frames(s);
        return std::find(f.begin(), f.end(), function) != f.end();
    });
    // The sample counts of a subset are not known per stack; keep them proportional.
    for (size_t e = 0; e < out.events_.size(); ++e)
        out.events_[e].samples =
            events_[e].weight == 0
                ? 0
                : static_cast<uint64_t>(static_cast<double>(events_[e].samples) *
                                        static_cast<double>(out.events_[e].weight) /
                                        static_cast<double>(events_[e].weight));
    std::string focus = "focus=" + functions_[function].name;
    out.filters_text_ = filters_text_ == "none" ? focus : filters_text_ + " " + focus;
    return out;
}

AggregatedProfile aggregate(const Profile& profile, const AggregateOptions& options) {
    const FilterOptions& flt = options.filters;
    if (flt.kernel_only && flt.user_only)
        throw Error("--kernel-only and --user-only exclude each other: give one of them");

    AggregatedProfile out;
    out.weight_kind_ = options.weight;
    out.filters_ = flt;
    out.filters_text_ = flt.describe();
    out.lost_samples_ = profile.total_lost();
    out.unresolved_frames_ = profile.unresolved_frames;
    out.meta_ = profile.meta;
    AggregatedProfile::Builder builder(out);

    // Events kept, and their index in the aggregated profile.
    std::vector<int> event_slot(profile.events.size(), -1);
    for (const std::string& name : flt.events) {
        bool found = false;
        for (const EventDesc& e : profile.events) found = found || e.name == name;
        if (!found) {
            std::string have;
            for (const EventDesc& e : profile.events) have += (have.empty() ? "" : ", ") + e.name;
            throw Error(fmt::format("--event {}: the trace has no such event (it has: {})", name,
                                    have.empty() ? "none" : have));
        }
    }
    for (size_t i = 0; i < profile.events.size(); ++i) {
        const std::string& name = profile.events[i].name;
        if (!flt.events.empty() &&
            std::find(flt.events.begin(), flt.events.end(), name) == flt.events.end())
            continue;
        event_slot[i] = static_cast<int>(out.events_.size());
        out.events_.push_back(EventTotal{.name = name, .trace_event = static_cast<uint16_t>(i)});
    }
    const size_t n_events = out.events_.size();

    // Threads -> comm ids (the last thread entry of a tid wins: tids are reused).
    std::unordered_map<uint32_t, uint32_t> comm_of_tid;
    for (const Thread& t : profile.threads) comm_of_tid[t.tid] = builder.intern_comm(t.comm);
    auto comm_allowed = [&flt](const std::string& comm) {
        return std::find(flt.comms.begin(), flt.comms.end(), comm) != flt.comms.end();
    };
    std::vector<int8_t> comm_ok;

    // --time window on the perf clock, relative to the first sample: [lo, hi), or
    // [lo, end] when it runs to the end.
    uint64_t t_first = 0;
    double t_lo = 0, t_hi = -1;
    if (flt.time && !profile.samples.empty()) {
        uint64_t last = 0;
        t_first = std::numeric_limits<uint64_t>::max();
        for (const Sample& s : profile.samples) {
            t_first = std::min(t_first, s.time_ns);
            last = std::max(last, s.time_ns);
        }
        if (profile.meta.first_sample_ns != 0)
            t_first = std::min(t_first, profile.meta.first_sample_ns);
        const double span = static_cast<double>(last - t_first);
        const TimeRange& r = *flt.time;
        const double scale = r.percent ? span / 100.0 : 1e9;
        t_lo = r.start * scale;
        if (r.end >= 0 && !(r.percent && r.end >= 100)) t_hi = r.end * scale;
    }
    auto in_time = [&](uint64_t t) {
        if (!flt.time) return true;
        const double rel = static_cast<double>(t - std::min(t, t_first));
        return rel >= t_lo && (t_hi < 0 || rel < t_hi);
    };

    // Pass 1: samples -> (stack, comm) slots with per-event weight. Chained per stack
    // because almost every stack is seen under one comm only.
    struct Slot {
        StackId stack;
        uint32_t comm;
        uint32_t next;
    };
    std::vector<Slot> slots;
    std::vector<uint64_t> slot_weights, slot_samples;  // slots x events
    std::vector<uint32_t> first_slot(profile.stacks.size(), kNone);
    const bool count_is_period = profile.meta.source_format == "folded";
    auto contains = [](const std::vector<uint32_t>& v, uint32_t x) {
        return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
    };
    const uint32_t unknown_comm = builder.intern_comm("[unknown]");
    // With few comms, a dense (stack, comm, event) table beats chasing chains: one memory
    // access per sample, which is what bounds this loop over millions of samples.
    const size_t n_comms = out.comms_.size();
    const size_t n_stacks = first_slot.size();
    const bool dense = n_stacks * n_comms * n_events <= (size_t{8} << 20);
    struct Cell {
        uint64_t weight = 0, samples = 0;
    };
    std::vector<Cell> cells;
    if (dense) cells.assign(n_stacks * n_comms * n_events, Cell{});
    uint32_t last_tid = UINT32_MAX, last_comm = unknown_comm;  // samples come in runs
    const std::vector<Sample>& samples = profile.samples;
    for (size_t i = 0; i < samples.size(); ++i) {
        const Sample& s = samples[i];
        // The table access misses the cache; start the one of a later sample early.
        if (dense && i + 16 < samples.size() && samples[i + 16].stack < n_stacks)
            __builtin_prefetch(&cells[samples[i + 16].stack * n_comms * n_events]);
        if (s.event >= event_slot.size() || event_slot[s.event] < 0) continue;
        if (s.stack >= n_stacks) continue;
        if (!in_time(s.time_ns)) continue;
        if (!contains(flt.cpus, s.cpu) || !contains(flt.pids, s.pid) || !contains(flt.tids, s.tid))
            continue;
        if (s.tid != last_tid) {
            auto it = comm_of_tid.find(s.tid);
            last_tid = s.tid;
            last_comm = it == comm_of_tid.end() ? unknown_comm : it->second;
        }
        const uint32_t comm = last_comm;
        if (!flt.comms.empty()) {
            if (comm_ok.size() <= comm) comm_ok.resize(out.comms_.size(), -1);
            if (comm_ok[comm] < 0) comm_ok[comm] = comm_allowed(out.comms_[comm]) ? 1 : 0;
            if (!comm_ok[comm]) continue;
        }
        const uint64_t w = options.weight == WeightKind::period || count_is_period ? s.period : 1;
        const uint64_t n = count_is_period ? s.period : 1;
        const auto ev = static_cast<size_t>(event_slot[s.event]);
        if (dense) {
            Cell& c = cells[(s.stack * n_comms + comm) * n_events + ev];
            c.weight += w;
            c.samples += n;
            continue;
        }
        uint32_t slot = first_slot[s.stack];
        while (slot != kNone && slots[slot].comm != comm) slot = slots[slot].next;
        if (slot == kNone) {
            slot = static_cast<uint32_t>(slots.size());
            slots.push_back(Slot{s.stack, comm, first_slot[s.stack]});
            first_slot[s.stack] = slot;
            slot_weights.resize(slot_weights.size() + n_events, 0);
            slot_samples.resize(slot_samples.size() + n_events, 0);
        }
        slot_weights[slot * n_events + ev] += w;
        slot_samples[slot * n_events + ev] += n;
    }
    if (dense) {
        for (size_t stack = 0; stack < n_stacks; ++stack) {
            for (size_t comm = 0; comm < n_comms; ++comm) {
                const size_t base = (stack * n_comms + comm) * n_events;
                bool any = false;
                for (size_t e = 0; e < n_events; ++e) any = any || cells[base + e].samples != 0;
                if (!any) continue;
                const auto slot = static_cast<uint32_t>(slots.size());
                slots.push_back(Slot{static_cast<StackId>(stack), static_cast<uint32_t>(comm),
                                     first_slot[stack]});
                first_slot[stack] = slot;
                for (size_t e = 0; e < n_events; ++e) {
                    slot_weights.push_back(cells[base + e].weight);
                    slot_samples.push_back(cells[base + e].samples);
                }
            }
        }
    }

    // Pass 2: resolve each unique frame once, then filter frames and merge stacks.
    FrameResolver resolver(profile, options.resolve);
    // Sized for few unique frames and grown: a table sized for every ip would be mostly
    // empty, and each lookup a cache miss into it.
    FlatMap<FrameKey, std::pair<uint32_t, uint32_t>, FrameKeyHash> frame_cache(
        std::min<size_t>(profile.stacks.ips().size(), 1 << 14));
    std::vector<FunctionId> resolved;  // cached function lists, innermost first
    std::vector<Location> locs;
    std::vector<FunctionMatch> matches;
    std::optional<std::regex> focus_re, ignore_re, hide_re;
    if (!flt.focus.empty()) focus_re = compile_regex(flt.focus, "--focus");
    if (!flt.ignore.empty()) ignore_re = compile_regex(flt.ignore, "--ignore");
    if (!flt.hide.empty()) hide_re = compile_regex(flt.hide, "--hide");
    auto match = [&](FunctionId f, int8_t FunctionMatch::*field,
                     const std::optional<std::regex>& re) {
        if (matches.size() <= f) matches.resize(out.functions_.size());
        int8_t& m = matches[f].*field;
        if (m < 0) m = std::regex_search(out.functions_[f].name, *re) ? 1 : 0;
        return m == 1;
    };

    std::vector<FunctionId> stack_frames, kept;
    std::vector<uint64_t> w(n_events);
    for (StackId stack = 0; stack < first_slot.size(); ++stack) {
        if (first_slot[stack] == kNone) continue;
        const StackView view = profile.stacks.get(stack);
        stack_frames.clear();  // leaf first while collecting
        for (size_t i = 0; i < view.ips.size(); ++i) {
            const bool kernel_frame = i < view.kernel_depth;
            const FrameKey key{
                view.ips[i], kernel_frame ? 0 : ((uint64_t{view.pid} << 32) | view.generation) + 1};
            auto [cached, inserted] = frame_cache.try_emplace(key, {0, 0});
            if (inserted) {
                locs.clear();
                resolver.resolve(view, i, locs);
                const auto first = static_cast<uint32_t>(resolved.size());
                for (const Location& loc : locs) resolved.push_back(builder.intern_function(loc));
                *cached = {first, static_cast<uint32_t>(locs.size())};
            }
            for (uint32_t k = 0; k < cached->second; ++k)
                stack_frames.push_back(resolved[cached->first + k]);
        }
        std::reverse(stack_frames.begin(), stack_frames.end());

        kept.clear();
        if (flt.kernel_only || flt.user_only) {
            for (FunctionId f : stack_frames)
                if (out.functions_[f].kernel == flt.kernel_only) kept.push_back(f);
            if (kept.empty()) continue;
        } else {
            kept.swap(stack_frames);
        }
        if (focus_re && std::none_of(kept.begin(), kept.end(), [&](FunctionId f) {
                return match(f, &FunctionMatch::focus, focus_re);
            }))
            continue;
        if (ignore_re && std::any_of(kept.begin(), kept.end(), [&](FunctionId f) {
                return match(f, &FunctionMatch::ignore, ignore_re);
            }))
            continue;
        if (hide_re)
            std::erase_if(kept,
                          [&](FunctionId f) { return match(f, &FunctionMatch::hide, hide_re); });

        for (uint32_t slot = first_slot[stack]; slot != kNone; slot = slots[slot].next) {
            for (size_t e = 0; e < n_events; ++e) w[e] = slot_weights[slot * n_events + e];
            builder.add(slots[slot].comm, kept, w);
            for (size_t e = 0; e < n_events; ++e)
                out.events_[e].samples += slot_samples[slot * n_events + e];
        }
    }
    return out;
}

}  // namespace kprof
