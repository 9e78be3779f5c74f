// The pieces aggregate() decides with, each on its own: which events (EventSelection),
// which samples (TimeWindow, ThreadComms, SampleFilter), summed how (StackTally), and
// which frames of a resolved stack (StackFilter).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "analyzer/sample_filter.hpp"
#include "analyzer/stack_filter.hpp"
#include "analyzer/stack_tally.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kSecond = 1'000'000'000ULL;

// Three events, four thread entries (tid 10 is reused: its last name is "c"), two
// stacks, and samples over cpus, threads, events and 4 seconds starting at 100 s.
Profile make_trace() {
    Profile p;
    p.events = {EventDesc{.name = "cpu-clock"}, EventDesc{.name = "net:net_dev_xmit"},
                EventDesc{.name = "sched:sched_switch"}};
    p.threads = {
        Thread{.pid = 10, .tid = 10, .comm = "a"}, Thread{.pid = 10, .tid = 11, .comm = "b"},
        Thread{.pid = 12, .tid = 12, .comm = "a"}, Thread{.pid = 10, .tid = 10, .comm = "c"}};
    const std::vector<uint64_t> one = {0x1000, 0x2000}, two = {0x3000};
    p.stacks.intern(one, 2, 0, 0);
    p.stacks.intern(two, 1, 0, 0);
    const uint64_t t0 = 100 * kSecond;
    p.samples = {
        Sample{.time_ns = t0, .pid = 10, .tid = 10, .stack = 0, .cpu = 0, .event = 0},
        Sample{.time_ns = t0 + kSecond, .pid = 10, .tid = 11, .stack = 1, .cpu = 1, .event = 1},
        Sample{.time_ns = t0 + 2 * kSecond, .pid = 12, .tid = 12, .stack = 0, .cpu = 1, .event = 2},
        Sample{.time_ns = t0 + 3 * kSecond, .pid = 10, .tid = 11, .stack = 0, .cpu = 0, .event = 0},
        Sample{.time_ns = t0 + 4 * kSecond, .pid = 99, .tid = 99, .stack = 1, .cpu = 2, .event = 0},
    };
    return p;
}

// Indices of the samples the filter keeps, in order.
std::vector<size_t> kept(const Profile& p, const FilterOptions& options) {
    SampleFilter filter(p, options);
    std::vector<size_t> out;
    for (size_t i = 0; i < p.samples.size(); ++i)
        if (filter.keep(p.samples[i])) out.push_back(i);
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(EventSelection, KeepsEveryEventByDefaultAndTheNamedOnesInTraceOrder) {
    const Profile p = make_trace();
    const EventSelection all(p.events, {});
    EXPECT_THAT(all.kept(), ElementsAre(0, 1, 2));
    EXPECT_EQ(all.slot(2), 2);
    EXPECT_EQ(all.slot(3), -1);  // an event index the trace does not have

    const EventSelection two(p.events, {"sched:sched_switch", "cpu-clock"});
    EXPECT_THAT(two.kept(), ElementsAre(0, 2));
    EXPECT_EQ(two.slot(0), 0);
    EXPECT_EQ(two.slot(1), -1);
    EXPECT_EQ(two.slot(2), 1);
}

TEST(EventSelection, AnUnknownEventIsAnErrorNamingTheTracesEvents) {
    const Profile p = make_trace();
    EXPECT_EQ(error_of([&] {
                  EventSelection(p.events, {"cpu-clock", "cycles"});
              }),
              "--event cycles: the trace has no such event (it has: cpu-clock, "
              "net:net_dev_xmit, sched:sched_switch)");
    EXPECT_THAT(error_of([] { EventSelection({}, {"cpu-clock"}); }), HasSubstr("(it has: none)"));
}

TEST(TimeWindow, SecondsFromTheFirstSampleEndExcluded) {
    const Profile p = make_trace();
    const uint64_t t0 = p.samples.front().time_ns;
    const TimeWindow w(TimeRange::parse("1,3"), p);
    EXPECT_FALSE(w.contains(t0));
    EXPECT_TRUE(w.contains(t0 + kSecond));
    EXPECT_TRUE(w.contains(t0 + 3 * kSecond - 1));
    EXPECT_FALSE(w.contains(t0 + 3 * kSecond));
    EXPECT_FALSE(w.contains(0));  // before the first sample counts as its time
    EXPECT_TRUE(TimeWindow().contains(0));
    EXPECT_TRUE(TimeWindow(std::nullopt, p).contains(t0 + 1000 * kSecond));
}

TEST(TimeWindow, PercentSlicesOfTheSpanAndAnOpenEndIncludesTheLastSample) {
    const Profile p = make_trace();  // spans 4 s
    const uint64_t t0 = p.samples.front().time_ns;
    const TimeWindow first_half(TimeRange::parse("0%,50%"), p);
    EXPECT_TRUE(first_half.contains(t0 + kSecond));
    EXPECT_FALSE(first_half.contains(t0 + 2 * kSecond));
    const TimeWindow to_the_end(TimeRange::parse("50%,100%"), p);
    EXPECT_FALSE(to_the_end.contains(t0 + kSecond));
    EXPECT_TRUE(to_the_end.contains(t0 + 4 * kSecond));
    const TimeWindow open(TimeRange::parse("3,"), p);
    EXPECT_TRUE(open.contains(t0 + 4 * kSecond));
}

TEST(TimeWindow, StartsAtTheRecordingsStartWhenThatIsEarlier) {
    Profile p = make_trace();
    p.meta.first_sample_ns = p.samples.front().time_ns - kSecond;
    const TimeWindow w(TimeRange::parse("0,1"), p);
    EXPECT_FALSE(w.contains(p.samples.front().time_ns));  // 1 s after the start
    EXPECT_TRUE(w.contains(p.meta.first_sample_ns));
}

TEST(ThreadComms, FirstAppearanceOrderUnknownLastAndTheLastEntryOfATidWins) {
    const Profile p = make_trace();
    const ThreadComms comms(p.threads);
    EXPECT_THAT(comms.names(), ElementsAre("a", "b", "c", "[unknown]"));
    EXPECT_EQ(comms.names()[comms.of(10)], "c");
    EXPECT_EQ(comms.names()[comms.of(12)], "a");
    EXPECT_EQ(comms.of(99), comms.unknown());
    // A thread named "[unknown]" and the threads the trace does not name share a comm.
    const ThreadComms named({Thread{.tid = 5, .comm = "[unknown]"}, Thread{.tid = 6, .comm = "x"}});
    EXPECT_THAT(named.names(), ElementsAre("[unknown]", "x"));
    EXPECT_EQ(named.of(7), named.of(5));
}

TEST(SampleFilter, EachSampleFilterDropsWhatItNames) {
    const Profile p = make_trace();
    EXPECT_THAT(kept(p, {}), ElementsAre(0, 1, 2, 3, 4));
    EXPECT_THAT(kept(p, {.events = {"cpu-clock"}}), ElementsAre(0, 3, 4));
    EXPECT_THAT(kept(p, {.cpus = {1, 2}}), ElementsAre(1, 2, 4));
    EXPECT_THAT(kept(p, {.pids = {10}}), ElementsAre(0, 1, 3));
    EXPECT_THAT(kept(p, {.tids = {11, 99}}), ElementsAre(1, 3, 4));
    EXPECT_THAT(kept(p, {.comms = {"b", "[unknown]"}}), ElementsAre(1, 3, 4));
    EXPECT_THAT(kept(p, {.comms = {"a"}}), ElementsAre(2));  // tid 10 is "c" now
    EXPECT_THAT(kept(p, {.time = TimeRange::parse("1,3")}), ElementsAre(1, 2));
    EXPECT_THAT(kept(p, {.events = {"cpu-clock"}, .cpus = {0}, .comms = {"b"}}), ElementsAre(3));
    EXPECT_THAT(kept(p, {.comms = {"nobody"}}), ElementsAre());
}

TEST(SampleFilter, SaysWhereAKeptSampleCounts) {
    const Profile p = make_trace();
    SampleFilter filter(p, {.events = {"net:net_dev_xmit", "sched:sched_switch"}});
    const std::vector<std::string>& comms = filter.comms().names();
    EXPECT_EQ(filter.keep(p.samples[0]), std::nullopt);
    const auto second = filter.keep(p.samples[1]);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->event, 0u);
    EXPECT_EQ(comms[second->comm], "b");
    const auto third = filter.keep(p.samples[2]);
    ASSERT_TRUE(third);
    EXPECT_EQ(third->event, 1u);
    EXPECT_EQ(comms[third->comm], "a");
}

TEST(SampleFilter, RunsOfOneThreadAndThreadChangesGetTheirOwnComm) {
    const Profile p = make_trace();
    SampleFilter filter(p, {.comms = {"b"}});
    auto sample = [](uint32_t tid) { return Sample{.pid = 10, .tid = tid}; };
    for (uint32_t tid : {11u, 11u, 10u, 11u, 99u, 99u, 11u})
        EXPECT_EQ(filter.keep(sample(tid)).has_value(), tid == 11) << "tid " << tid;
}

// Functions: main and write in user space, the rest in the kernel.
const std::vector<Function> kFunctions = {{"main", "/bin/prog", false},
                                          {"write", "/lib/libc.so.6", false},
                                          {"ksys_write", "[kernel.kallsyms]", true},
                                          {"vfs_write", "[kernel.kallsyms]", true},
                                          {"pipe_write", "[kernel.kallsyms]", true}};

std::vector<FunctionId> filtered(StackFilter& filter, std::vector<FunctionId> frames,
                                 bool* kept = nullptr) {
    const bool k = filter.apply(frames, kFunctions);
    if (kept) *kept = k;
    return k ? frames : std::vector<FunctionId>{99};  // 99: dropped
}

TEST(StackFilter, KernelOrUserOnlyKeepsThoseFramesAndDropsStacksWithoutAny) {
    StackFilter kernel({.kernel_only = true});
    EXPECT_THAT(filtered(kernel, {0, 1, 2, 3}), ElementsAre(2, 3));
    EXPECT_THAT(filtered(kernel, {0, 1}), ElementsAre(99));
    StackFilter user({.user_only = true});
    EXPECT_THAT(filtered(user, {0, 1, 2, 3}), ElementsAre(0, 1));
    EXPECT_THAT(filtered(user, {2, 3}), ElementsAre(99));
    StackFilter none({});
    EXPECT_THAT(filtered(none, {}), ElementsAre());  // no frames: kept, unattributed
}

TEST(StackFilter, FocusIgnoreAndHide) {
    StackFilter focus({.focus = "^vfs_"});
    EXPECT_THAT(filtered(focus, {0, 1, 2, 3}), ElementsAre(0, 1, 2, 3));
    EXPECT_THAT(filtered(focus, {0, 1, 2}), ElementsAre(99));
    StackFilter ignore({.ignore = "write$"});
    EXPECT_THAT(filtered(ignore, {0, 1}), ElementsAre(99));
    EXPECT_THAT(filtered(ignore, {0}), ElementsAre(0));
    StackFilter hide({.hide = "_write$"});
    EXPECT_THAT(filtered(hide, {0, 1, 2, 3, 4}), ElementsAre(0, 1));
    // Every frame hidden: the stack stays, without frames.
    bool k = false;
    EXPECT_THAT(filtered(hide, {2, 3}, &k), ElementsAre());
    EXPECT_TRUE(k);
    // Frame filters apply in order: kernel only, then focus on what is left.
    StackFilter both({.kernel_only = true, .focus = "^main$"});
    EXPECT_THAT(filtered(both, {0, 2}), ElementsAre(99));
}

TEST(StackFilter, FunctionsInternedBetweenCallsAreMatchedToo) {
    StackFilter focus({.focus = "^pipe_"});
    std::vector<Function> functions(kFunctions.begin(), kFunctions.begin() + 2);
    std::vector<FunctionId> frames = {0, 1};
    EXPECT_FALSE(focus.apply(frames, functions));
    functions = kFunctions;
    frames = {0, 4};
    EXPECT_TRUE(focus.apply(frames, functions));
}

TEST(StackFilter, ABadPatternIsAnErrorNamingTheOption) {
    EXPECT_THAT(error_of([] { StackFilter({.hide = "("}); }),
                HasSubstr("--hide '(': not a valid regular expression"));
    EXPECT_THAT(error_of([] { StackFilter({.focus = "[a"}); }), HasSubstr("--focus '[a'"));
}

// (stack, comm) -> (weights, samples) of a finished tally.
using Entries =
    std::map<std::pair<StackId, uint32_t>, std::pair<std::vector<uint64_t>, std::vector<uint64_t>>>;
Entries entries(const StackTally& t) {
    Entries out;
    for (StackId s = 0; s < t.stack_count(); ++s)
        t.for_each(s, [&](uint32_t comm, std::span<const uint64_t> w, std::span<const uint64_t> n) {
            EXPECT_TRUE(out.try_emplace({s, comm}, std::vector<uint64_t>(w.begin(), w.end()),
                                        std::vector<uint64_t>(n.begin(), n.end()))
                            .second)
                << "stack " << s << " comm " << comm << " twice";
        });
    return out;
}

TEST(StackTally, DenseTableAndChainsSumTheSame) {
    // 4 stacks x 3 comms x 2 events = 24 cells: dense with the default limit, chained
    // with a limit of 0.
    StackTally dense(4, 3, 2), chained(4, 3, 2, 0);
    EXPECT_TRUE(dense.dense());
    EXPECT_FALSE(chained.dense());
    for (StackTally* t : {&dense, &chained}) {
        t->add(0, 1, 0, 5, 1);
        t->add(0, 1, 0, 7, 1);
        t->add(0, 2, 1, 3, 1);
        t->add(3, 0, 1, 10, 2);
        t->finish();
    }
    const Entries expected = {
        {{0, 1}, {{12, 0}, {2, 0}}}, {{0, 2}, {{0, 3}, {0, 1}}}, {{3, 0}, {{0, 10}, {0, 2}}}};
    EXPECT_EQ(entries(dense), expected);
    EXPECT_EQ(entries(chained), expected);
    for (StackTally* t : {&dense, &chained}) {
        EXPECT_TRUE(t->has(0));
        EXPECT_FALSE(t->has(1));
        EXPECT_TRUE(t->has(3));
    }
}

TEST(StackTally, WeighsSamplesByCountOrPeriodAndFoldedCountsAsBoth) {
    Profile p = make_trace();
    for (size_t i = 0; i < p.samples.size(); ++i) p.samples[i].period = 100 + i;
    const FilterOptions cpu_clock{.events = {"cpu-clock"}};
    SampleFilter filter(p, cpu_clock);
    const uint32_t b = filter.comms().of(11), c = filter.comms().of(10),
                   unknown = filter.comms().unknown();
    // cpu-clock samples: 0 (stack 0, tid 10 "c"), 3 (stack 0, "b"), 4 (stack 1, unknown).
    EXPECT_EQ(entries(tally_samples(p, filter, WeightKind::samples)),
              (Entries{{{0, c}, {{1}, {1}}}, {{0, b}, {{1}, {1}}}, {{1, unknown}, {{1}, {1}}}}));
    SampleFilter again(p, cpu_clock);
    EXPECT_EQ(
        entries(tally_samples(p, again, WeightKind::period, 0)),
        (Entries{{{0, c}, {{100}, {1}}}, {{0, b}, {{103}, {1}}}, {{1, unknown}, {{104}, {1}}}}));
    p.meta.source_format = "folded";
    SampleFilter folded(p, cpu_clock);
    EXPECT_EQ(
        entries(tally_samples(p, folded, WeightKind::samples)),
        (Entries{
            {{0, c}, {{100}, {100}}}, {{0, b}, {{103}, {103}}}, {{1, unknown}, {{104}, {104}}}}));
}

TEST(StackTally, SamplesOfStacksTheTraceDoesNotHaveAreSkipped) {
    Profile p = make_trace();
    p.samples[0].stack = 7;
    SampleFilter filter(p, {});
    const StackTally t = tally_samples(p, filter, WeightKind::samples);
    uint64_t total = 0;
    for (const auto& [key, value] : entries(t))
        for (uint64_t n : value.second) total += n;
    EXPECT_EQ(total, p.samples.size() - 1);
}

}  // namespace
}  // namespace kprof
