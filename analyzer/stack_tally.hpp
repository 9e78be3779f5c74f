// Aggregation's first pass: the samples a SampleFilter keeps, summed per (trace stack,
// comm) and event before any frame is resolved. Samples number millions; the pairs, as
// many as the trace's unique stacks, are what the second pass resolves.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analyzer/filters.hpp"
#include "analyzer/sample_filter.hpp"
#include "trace/profile.hpp"

namespace kprof {

class StackTally {
  public:
    // With few comms, a dense (stack, comm, event) table beats chasing chains: one memory
    // access per sample, which is what bounds the loop over millions of samples. Above
    // this many cells, entries are chained per stack instead (almost every stack is seen
    // under one comm only).
    static constexpr size_t kDenseCells = size_t{8} << 20;

    StackTally(size_t stacks, size_t comms, size_t events, size_t dense_cells = kDenseCells);

    bool dense() const { return dense_; }
    // Starts loading what add() for `stack` will touch, when dense(): the table access
    // misses the cache.
    void prefetch(StackId stack) const {
        __builtin_prefetch(cells_.data() + stack * n_comms_ * n_events_);
    }
    void add(StackId stack, uint32_t comm, size_t event, uint64_t weight, uint64_t samples) {
        if (dense_) {
            Cell& c = cells_[(stack * n_comms_ + comm) * n_events_ + event];
            c.weight += weight;
            c.samples += samples;
            return;
        }
        add_chained(stack, comm, event, weight, samples);
    }
    // Call once, after the last add() and before reading the entries.
    void finish();

    size_t stack_count() const { return first_entry_.size(); }
    bool has(StackId stack) const { return first_entry_[stack] != kNone; }
    // Calls f(comm, weights, samples), both spans per event, for each comm of `stack`.
    template <class F>
    void for_each(StackId stack, F&& f) const {
        for (uint32_t e = first_entry_[stack]; e != kNone; e = entries_[e].next)
            f(entries_[e].comm, std::span(weights_.data() + e * n_events_, n_events_),
              std::span(samples_.data() + e * n_events_, n_events_));
    }

  private:
    static constexpr uint32_t kNone = UINT32_MAX;
    struct Entry {
        uint32_t comm;
        uint32_t next;  // the stack's next entry, or kNone
    };
    struct Cell {
        uint64_t weight = 0, samples = 0;
    };
    size_t n_comms_, n_events_;
    bool dense_;
    std::vector<Cell> cells_;  // dense: (stack, comm, event), until finish()
    std::vector<Entry> entries_;
    std::vector<uint64_t> weights_, samples_;  // entries x events
    std::vector<uint32_t> first_entry_;        // stack -> its newest entry

    void add_chained(StackId stack, uint32_t comm, size_t event, uint64_t weight, uint64_t samples);
};

// Sums the samples of `profile` that `filter` keeps. A sample weighs 1, or its period
// with WeightKind::period; in folded-stack imports (meta.source_format "folded") its
// period is its count, so it is both its weight and its number of samples.
StackTally tally_samples(const Profile& profile, SampleFilter& filter, WeightKind weight,
                         size_t dense_cells = StackTally::kDenseCells);

}  // namespace kprof
