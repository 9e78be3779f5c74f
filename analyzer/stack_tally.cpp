#include "analyzer/stack_tally.hpp"

namespace kprof {

StackTally::StackTally(size_t stacks, size_t comms, size_t events, size_t dense_cells)
    : n_comms_(comms),
      n_events_(events),
      dense_(stacks * comms * events <= dense_cells),
      first_entry_(stacks, kNone) {
    if (dense_) cells_.assign(stacks * comms * events, Cell{});
}

void StackTally::add_chained(StackId stack, uint32_t comm, size_t event, uint64_t weight,
                             uint64_t samples) {
    uint32_t e = first_entry_[stack];
    while (e != kNone && entries_[e].comm != comm) e = entries_[e].next;
    if (e == kNone) {
        e = static_cast<uint32_t>(entries_.size());
        entries_.push_back(Entry{comm, first_entry_[stack]});
        first_entry_[stack] = e;
        weights_.resize(weights_.size() + n_events_, 0);
        samples_.resize(samples_.size() + n_events_, 0);
    }
    weights_[e * n_events_ + event] += weight;
    samples_[e * n_events_ + event] += samples;
}

void StackTally::finish() {
    if (!dense_) return;
    for (size_t stack = 0; stack < first_entry_.size(); ++stack) {
        for (size_t comm = 0; comm < n_comms_; ++comm) {
            const size_t base = (stack * n_comms_ + comm) * n_events_;
            bool any = false;
            for (size_t e = 0; e < n_events_; ++e) any = any || cells_[base + e].samples != 0;
            if (!any) continue;
            const auto entry = static_cast<uint32_t>(entries_.size());
            entries_.push_back(Entry{static_cast<uint32_t>(comm), first_entry_[stack]});
            first_entry_[stack] = entry;
            for (size_t e = 0; e < n_events_; ++e) {
                weights_.push_back(cells_[base + e].weight);
                samples_.push_back(cells_[base + e].samples);
            }
        }
    }
    cells_ = {};
}

StackTally tally_samples(const Profile& profile, SampleFilter& filter, WeightKind weight,
                         size_t dense_cells) {
    StackTally tally(profile.stacks.size(), filter.comms().names().size(), filter.events().size(),
                     dense_cells);
    const bool count_is_period = profile.meta.source_format == "folded";
    const bool dense = tally.dense();
    const size_t n_stacks = tally.stack_count();
    const std::vector<Sample>& samples = profile.samples;
    for (size_t i = 0; i < samples.size(); ++i) {
        if (dense && i + 16 < samples.size() && samples[i + 16].stack < n_stacks)
            tally.prefetch(samples[i + 16].stack);
        const Sample& s = samples[i];
        if (s.stack >= n_stacks) continue;
        const std::optional<KeptSample> kept = filter.keep(s);
        if (!kept) continue;
        const uint64_t w = weight == WeightKind::period || count_is_period ? s.period : 1;
        const uint64_t n = count_is_period ? s.period : 1;
        tally.add(s.stack, kept->comm, kept->event, w, n);
    }
    tally.finish();
    return tally;
}

}  // namespace kprof
