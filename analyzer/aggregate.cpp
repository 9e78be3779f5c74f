#include "analyzer/aggregate.hpp"

#include <algorithm>
#include <regex>
#include <unordered_map>

#include "analyzer/flat_map.hpp"
#include "analyzer/sample_filter.hpp"
#include "analyzer/stack_filter.hpp"
#include "analyzer/stack_tally.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
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

namespace {

// Trace stacks (ips, leaf first) as function ids, root first, resolving each unique
// frame once and interning its functions through the builder.
class StackResolver {
  public:
    StackResolver(const Profile& profile, const ResolveOptions& options,
                  AggregatedProfile::Builder& builder)
        : resolver_(profile, options),
          builder_(builder),
          // Sized for few unique frames and grown: a table sized for every ip would be
          // mostly empty, and each lookup a cache miss into it.
          frame_cache_(std::min<size_t>(profile.stacks.ips().size(), 1 << 14)) {}

    void resolve(const StackView& view, std::vector<FunctionId>& frames) {
        frames.clear();  // leaf first while collecting
        for (size_t i = 0; i < view.ips.size(); ++i) {
            const bool kernel_frame = i < view.kernel_depth;
            const FrameKey key{
                view.ips[i], kernel_frame ? 0 : ((uint64_t{view.pid} << 32) | view.generation) + 1};
            auto [cached, inserted] = frame_cache_.try_emplace(key, {0, 0});
            if (inserted) {
                locs_.clear();
                resolver_.resolve(view, i, locs_);
                const auto first = static_cast<uint32_t>(resolved_.size());
                for (const Location& loc : locs_)
                    resolved_.push_back(builder_.intern_function(loc));
                *cached = {first, static_cast<uint32_t>(locs_.size())};
            }
            for (uint32_t k = 0; k < cached->second; ++k)
                frames.push_back(resolved_[cached->first + k]);
        }
        std::reverse(frames.begin(), frames.end());
    }

  private:
    FrameResolver resolver_;
    AggregatedProfile::Builder& builder_;
    // Frame -> its functions in resolved_ (first, count), innermost first.
    FlatMap<FrameKey, std::pair<uint32_t, uint32_t>, FrameKeyHash> frame_cache_;
    std::vector<FunctionId> resolved_;
    std::vector<Location> locs_;
};

}  // namespace

AggregatedProfile aggregate(const Profile& profile, const AggregateOptions& options) {
    const FilterOptions& flt = options.filters;
    if (flt.kernel_only && flt.user_only)
        throw Error("--kernel-only and --user-only exclude each other: give one of them");
    SampleFilter sample_filter(profile, flt);

    AggregatedProfile out;
    out.weight_kind_ = options.weight;
    out.filters_ = flt;
    out.filters_text_ = flt.describe();
    out.lost_samples_ = profile.total_lost();
    out.unresolved_frames_ = profile.unresolved_frames;
    out.meta_ = profile.meta;
    for (uint16_t e : sample_filter.events().kept())
        out.events_.push_back(EventTotal{.name = profile.events[e].name, .trace_event = e});
    out.comms_ = sample_filter.comms().names();
    AggregatedProfile::Builder builder(out);

    // Pass 1: samples -> (stack, comm) with per-event weight.
    const StackTally tally = tally_samples(profile, sample_filter, options.weight);

    // Pass 2: resolve each unique frame once, then filter frames and merge stacks.
    StackResolver resolver(profile, options.resolve, builder);
    StackFilter stack_filter(flt);
    std::vector<FunctionId> frames;
    for (StackId stack = 0; stack < tally.stack_count(); ++stack) {
        if (!tally.has(stack)) continue;
        resolver.resolve(profile.stacks.get(stack), frames);
        if (!stack_filter.apply(frames, out.functions_)) continue;
        tally.for_each(stack, [&](uint32_t comm, std::span<const uint64_t> weights,
                                  std::span<const uint64_t> samples) {
            builder.add(comm, frames, weights);
            for (size_t e = 0; e < samples.size(); ++e) out.events_[e].samples += samples[e];
        });
    }
    return out;
}

}  // namespace kprof
