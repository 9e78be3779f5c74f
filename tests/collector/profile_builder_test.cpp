// From decoded records to the trace model: threads, exec generations, mappings, shared
// kernel-only stacks, and loss accounting per CPU; and the streaming mode of long
// system-wide recordings, which keeps only live processes' stacks and mappings.
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include "collector/profile_builder.hpp"
#include "record_bytes.hpp"

namespace kprof::collector {
namespace {

using testing::collector_layout;
using testing::dwarf_layout;
using testing::dwarf_sample_bytes;
using testing::no_user_copy;
using testing::RecordBytes;
using testing::sample_bytes;
using testing::UserCopy;

constexpr uint64_t kKernelCtx = static_cast<uint64_t>(PERF_CONTEXT_KERNEL);
constexpr uint64_t kUserCtx = static_cast<uint64_t>(PERF_CONTEXT_USER);
constexpr uint64_t kK1 = 0xffffffff81234567ULL;
constexpr uint64_t kK2 = 0xffffffff81000100ULL;
constexpr uint64_t kU1 = 0x55555555a000ULL;

struct Fixture {
    Profile profile;
    std::unique_ptr<ProfileBuilder> builder;
    StackTable written;  // streaming: every stack handed out, as the trace file gets them
    explicit Fixture(bool streaming = false) {
        profile.events = {EventDesc{.name = "cpu-clock"}, EventDesc{.name = "net:net_dev_xmit"}};
        builder = std::make_unique<ProfileBuilder>(
            profile, std::unordered_map<uint64_t, int>{{10, 0}, {11, 0}, {20, 1}},
            std::vector<uint32_t>{0, 1});
        if (streaming) builder->stream_stacks();
    }
    SampleLayout layout = collector_layout();
    void feed(const std::vector<uint8_t>& bytes, uint32_t cpu = 0) {
        builder->add(decode_record(bytes, layout), cpu);
    }
    // What the recorder does after each drain round.
    void take_stacks() {
        const StackTable& fresh = builder->fresh_stacks();
        for (StackId id = 0; id < fresh.size(); ++id) {
            const StackView v = fresh.get(id);
            written.append(v.ips, v.kernel_depth, v.pid, v.generation);
        }
        builder->clear_fresh_stacks();
    }
};

std::vector<uint8_t> comm(uint32_t pid, uint32_t tid, const char* name, bool exec, uint64_t t) {
    RecordBytes b(PERF_RECORD_COMM, exec ? PERF_RECORD_MISC_COMM_EXEC : 0);
    b.u32(pid).u32(tid).str(name).sample_id(pid, tid, t, 0, 10);
    return b.done();
}

std::vector<uint8_t> mmap2(uint32_t pid, uint64_t addr, const char* path, uint64_t t) {
    RecordBytes b(PERF_RECORD_MMAP2);
    b.u32(pid).u32(pid).u64(addr).u64(0x1000).u64(0).u32(0).u32(0).u64(0).u64(0);
    b.u32(PROT_READ | PROT_EXEC).u32(MAP_PRIVATE).str(path).sample_id(pid, pid, t, 0, 10);
    return b.done();
}

std::vector<uint8_t> task(uint32_t type, uint32_t pid, uint32_t ppid, uint32_t tid, uint32_t ptid,
                          uint64_t t) {
    RecordBytes b(type);
    b.u32(pid).u32(ppid).u32(tid).u32(ptid).u64(t).sample_id(pid, tid, t, 0, 10);
    return b.done();
}

TEST(ProfileBuilder, SamplesCountedPerEventAndStacksInterned) {
    Fixture f;
    f.feed(sample_bytes(10, kK1, 5, 5, 100, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1}));
    f.feed(sample_bytes(11, kK1, 5, 5, 101, 1, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1}));
    f.feed(sample_bytes(20, kK1, 5, 5, 102, 1, 1, {kKernelCtx, kK1}));
    f.feed(sample_bytes(99, kK1, 5, 5, 103, 1, 1, {kKernelCtx, kK1}));  // unknown id
    ASSERT_EQ(f.profile.samples.size(), 3u);
    EXPECT_EQ(f.profile.events[0].samples, 2u);
    EXPECT_EQ(f.profile.events[1].samples, 1u);
    EXPECT_EQ(f.builder->counters().unknown_event_samples, 1u);
    EXPECT_EQ(f.profile.samples[0].stack, f.profile.samples[1].stack);
    EXPECT_EQ(f.profile.samples[2].event, 1u);
    EXPECT_EQ(f.profile.samples[1].cpu, 1u);
    const StackView v = f.profile.stacks.get(f.profile.samples[0].stack);
    EXPECT_EQ(v.kernel_depth, 2u);
    EXPECT_EQ(v.ips.size(), 3u);
    EXPECT_EQ(v.pid, 5u);
}

TEST(ProfileBuilder, KernelOnlyStacksAreSharedAcrossProcesses) {
    Fixture f;
    f.feed(sample_bytes(10, kK1, 5, 5, 100, 0, 1, {kKernelCtx, kK1, kK2}));
    f.feed(sample_bytes(10, kK1, 6, 6, 101, 0, 1, {kKernelCtx, kK1, kK2}));
    ASSERT_EQ(f.profile.samples.size(), 2u);
    EXPECT_EQ(f.profile.samples[0].stack, f.profile.samples[1].stack);
    EXPECT_EQ(f.profile.stacks.get(f.profile.samples[0].stack).pid, 0u);
    EXPECT_EQ(f.profile.samples[1].pid, 6u);
}

TEST(ProfileBuilder, ExecBumpsGenerationAndSeparatesStacksAndMappings) {
    Fixture f;
    f.feed(mmap2(7, 0x400000, "/bin/sh", 10));
    f.feed(sample_bytes(10, kU1, 7, 7, 20, 0, 1, {kUserCtx, kU1}));
    f.feed(comm(7, 7, "ls", true, 30));
    EXPECT_EQ(f.builder->generation(7), 1u);
    f.feed(mmap2(7, 0x400000, "/bin/ls", 40));
    f.feed(sample_bytes(10, kU1, 7, 7, 50, 0, 1, {kUserCtx, kU1}));
    ASSERT_EQ(f.profile.samples.size(), 2u);
    EXPECT_NE(f.profile.samples[0].stack, f.profile.samples[1].stack);
    EXPECT_EQ(f.profile.stacks.get(f.profile.samples[1].stack).generation, 1u);
    f.builder->finalize();
    ASSERT_EQ(f.profile.mappings.size(), 2u);
    EXPECT_EQ(f.profile.mappings[0].generation, 0u);
    EXPECT_EQ(f.profile.dsos[f.profile.mappings[0].dso].path, "/bin/sh");
    EXPECT_EQ(f.profile.mappings[1].generation, 1u);
    EXPECT_EQ(f.profile.dsos[f.profile.mappings[1].dso].path, "/bin/ls");
    const Thread* t = f.profile.find_thread(7);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->comm, "ls");
}

TEST(ProfileBuilder, DsosInternedByPath) {
    Fixture f;
    f.feed(mmap2(7, 0x7f0000000000, "/usr/lib/libc.so.6", 10));
    f.feed(mmap2(8, 0x7f1000000000, "/usr/lib/libc.so.6", 11));
    EXPECT_EQ(f.profile.dsos.size(), 1u);
    EXPECT_EQ(f.profile.mappings[0].dso, f.profile.mappings[1].dso);
}

TEST(ProfileBuilder, ForkCopiesParentMappingsAndExitEndsThread) {
    Fixture f;
    f.builder->add_thread(7, 7, 1, "parent", 1);
    f.feed(mmap2(7, 0x400000, "/bin/sh", 10));
    f.feed(task(PERF_RECORD_FORK, 8, 7, 8, 7, 20));
    f.feed(task(PERF_RECORD_FORK, 7, 7, 9, 7, 21));  // a thread of the parent
    f.feed(task(PERF_RECORD_EXIT, 8, 7, 8, 7, 30));
    f.builder->finalize();
    ASSERT_EQ(f.profile.mappings.size(), 2u);
    EXPECT_EQ(f.profile.mappings[1].pid, 8u);
    EXPECT_EQ(f.profile.mappings[1].start, 0x400000u);
    const Thread* child = f.profile.find_thread(8);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->comm, "parent");
    EXPECT_EQ(child->ppid, 7u);
    EXPECT_EQ(child->start_ns, 20u);
    EXPECT_EQ(child->exit_ns, 30u);
    const Thread* thread = f.profile.find_thread(9);
    ASSERT_NE(thread, nullptr);
    EXPECT_EQ(thread->pid, 7u);
    EXPECT_EQ(thread->exit_ns, 0u);
}

TEST(ProfileBuilder, LostRecordsAndThrottlesArePerRingCpu) {
    Fixture f;
    RecordBytes l(PERF_RECORD_LOST);
    l.u64(10).u64(17).sample_id(0, 0, 10, 1, 10);
    f.feed(l.done(), 1);
    RecordBytes l2(PERF_RECORD_LOST);
    l2.u64(10).u64(3).sample_id(0, 0, 11, 1, 10);
    f.feed(l2.done(), 1);
    RecordBytes ls(PERF_RECORD_LOST_SAMPLES);
    ls.u64(5).sample_id(0, 0, 12, 0, 10);
    f.feed(ls.done(), 0);
    RecordBytes th(PERF_RECORD_THROTTLE);
    th.u64(13).u64(10).u64(10).sample_id(0, 0, 13, 0, 10);
    f.feed(th.done(), 0);
    RecordBytes un(PERF_RECORD_UNTHROTTLE);
    un.u64(14).u64(10).u64(10).sample_id(0, 0, 14, 0, 10);
    f.feed(un.done(), 0);
    ASSERT_EQ(f.profile.losses.size(), 2u);
    EXPECT_EQ(f.profile.losses[0].cpu, 0u);
    EXPECT_EQ(f.profile.losses[0].lost_records, 0u);
    EXPECT_EQ(f.profile.losses[0].lost_samples, 5u);
    EXPECT_EQ(f.profile.losses[0].throttles, 1u);
    EXPECT_EQ(f.profile.losses[0].unthrottles, 1u);
    EXPECT_EQ(f.profile.losses[1].cpu, 1u);
    EXPECT_EQ(f.profile.losses[1].lost_records, 20u);
    EXPECT_EQ(f.profile.total_lost(), 25u);
}

TEST(ProfileBuilder, UnknownAndMalformedRecordsAreCounted) {
    Fixture f;
    RecordBytes u(0x4242);
    u.u64(0);
    f.feed(u.done());
    std::vector<uint8_t> short_sample = {
        PERF_RECORD_SAMPLE, 0, 0, 0, 0, 0, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    f.feed(short_sample);
    EXPECT_EQ(f.builder->counters().unknown_records, 1u);
    EXPECT_EQ(f.builder->counters().malformed_records, 1u);
    EXPECT_TRUE(f.profile.samples.empty());
}

constexpr uint64_t kSecond = 1'000'000'000;

std::vector<uint8_t> mmap2_at(uint32_t pid, uint64_t addr, uint64_t len, uint64_t pgoff,
                              const char* path, uint64_t t) {
    RecordBytes b(PERF_RECORD_MMAP2);
    b.u32(pid).u32(pid).u64(addr).u64(len).u64(pgoff).u32(0).u32(0).u64(0).u64(0);
    b.u32(PROT_READ | PROT_EXEC).u32(MAP_PRIVATE).str(path).sample_id(pid, pid, t, 0, 10);
    return b.done();
}

// The same records through both modes give the same samples, stack ids and stacks.
TEST(ProfileBuilderStreaming, SameStacksAndIdsAsKeepingEverything) {
    Fixture kept;
    Fixture streamed(true);
    const std::vector<std::vector<uint8_t>> records = {
        mmap2(5, 0x555555554000, "/bin/prog", 1),
        sample_bytes(10, kK1, 5, 5, 100, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1}),
        sample_bytes(10, kK1, 6, 6, 101, 0, 1, {kKernelCtx, kK1, kK2}),
        sample_bytes(10, kK1, 5, 5, 102, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1}),
        sample_bytes(10, kK1, 6, 6, 103, 0, 1, {kKernelCtx, kK1, kK2}),
        sample_bytes(10, kK1, 7, 7, 104, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1}),
        sample_bytes(10, kK1, 5, 5, 105, 0, 1, {kKernelCtx, kK2, kUserCtx, kU1, kU1 + 8}),
    };
    for (size_t i = 0; i < records.size(); ++i) {
        kept.feed(records[i]);
        streamed.feed(records[i]);
        if (i == 3) streamed.take_stacks();  // ids go on across the hand-overs
    }
    streamed.take_stacks();
    EXPECT_TRUE(streamed.profile.stacks.entries().empty());
    EXPECT_EQ(streamed.profile.samples, kept.profile.samples);
    EXPECT_EQ(streamed.written, kept.profile.stacks);
    EXPECT_EQ(streamed.written.size(), 4u);  // pid 5 twice, pid 7, kernel-only
}

// The user addresses symbolization needs: per dso, the file offset of each frame, how many
// frames of unique stacks sit there, and whether one was a return address.
TEST(ProfileBuilderStreaming, GathersEachNewStacksUserAddresses) {
    Fixture f(true);
    f.feed(mmap2_at(5, 0x400000, 0x2000, 0x1000, "/bin/prog", 1));
    f.feed(mmap2_at(5, 0x7f0000000000, 0x1000, 0, "/lib/libc.so.6", 2));
    const std::vector<uint64_t> chain = {kKernelCtx,     kK1,     kUserCtx, 0x400010,
                                         0x7f0000000020, 0x400010};
    f.feed(sample_bytes(10, kK1, 5, 5, 100, 0, 1, chain));
    f.feed(sample_bytes(10, kK1, 5, 5, 101, 0, 1, chain));             // the same stack: not again
    f.feed(sample_bytes(10, kK1, 5, 5, 102, 0, 1, {kUserCtx, 0x10}));  // outside every mapping
    UserAddresses& a = f.builder->user_addresses();
    const DsoId prog = 0, libc = 1;
    ASSERT_EQ(f.profile.dsos[prog].path, "/bin/prog");
    ASSERT_GT(a.by_dso.size(), libc);
    ASSERT_EQ(a.by_dso[prog].size(), 1u);
    const UserAddress& p = a.by_dso[prog].at(0x1010);
    EXPECT_EQ(p.relative, 0x1010u);
    EXPECT_EQ(p.frames, 2u);
    EXPECT_TRUE(p.caller);  // also the third frame
    const UserAddress& l = a.by_dso[libc].at(0x20);
    EXPECT_EQ(l.frames, 1u);
    EXPECT_TRUE(l.caller);
    EXPECT_EQ(a.unmapped_frames, 1u);
}

// A second after its process exits, an address space's stacks and mappings leave memory;
// the trace keeps the mappings a stack hit, which is all analysis resolves through.
TEST(ProfileBuilderStreaming, ExitedProcessIsDroppedKeepingOnlyHitMappings) {
    Fixture f(true);
    const uint64_t t0 = 10 * kSecond;
    f.builder->add_thread(5, 5, 1, "prog", t0);
    f.feed(mmap2_at(5, 0x400000, 0x1000, 0, "/bin/prog", t0));
    f.feed(mmap2_at(5, 0x7f0000000000, 0x1000, 0, "/lib/unused.so", t0));
    f.feed(sample_bytes(10, kK1, 5, 5, t0 + 1, 0, 1, {kUserCtx, 0x400010}));
    f.feed(sample_bytes(10, kK1, 8, 8, t0 + 2, 0, 1, {kUserCtx, 0x10}));  // another process
    f.feed(task(PERF_RECORD_EXIT, 5, 1, 5, 1, t0 + 3));
    f.feed(sample_bytes(10, kK1, 8, 8, t0 + kSecond / 2, 0, 1, {kKernelCtx, kK1}));
    EXPECT_EQ(f.builder->live_address_spaces(), 2u);  // not yet: records may still come
    EXPECT_TRUE(f.profile.mappings.empty());
    f.feed(sample_bytes(10, kK1, 8, 8, t0 + 2 * kSecond, 0, 1, {kKernelCtx, kK1}));
    EXPECT_EQ(f.builder->live_address_spaces(), 1u);
    ASSERT_EQ(f.profile.mappings.size(), 1u);
    EXPECT_EQ(f.profile.mappings[0].pid, 5u);
    EXPECT_EQ(f.profile.dsos[f.profile.mappings[0].dso].path, "/bin/prog");
    f.builder->finalize();
    EXPECT_EQ(f.builder->live_address_spaces(), 0u);
    EXPECT_EQ(f.profile.mappings.size(), 1u);  // pid 8 hit no mapping
    const Thread* t = f.profile.find_thread(5);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->exit_ns, t0 + 3);  // threads stay: they name the samples
}

// A main thread that exits before the others does not end the process: samples keep it.
TEST(ProfileBuilderStreaming, SampleAfterTheMainThreadsExitKeepsTheProcess) {
    Fixture f(true);
    const uint64_t t0 = 10 * kSecond;
    f.builder->add_thread(5, 5, 1, "prog", t0);
    f.feed(task(PERF_RECORD_FORK, 5, 5, 6, 5, t0));
    f.feed(mmap2_at(5, 0x400000, 0x1000, 0, "/bin/prog", t0));
    f.feed(task(PERF_RECORD_EXIT, 5, 1, 5, 1, t0 + 1));
    f.feed(sample_bytes(10, kK1, 5, 6, t0 + 2, 0, 1, {kUserCtx, 0x400010}));
    f.feed(sample_bytes(10, kK1, 5, 6, t0 + 3 * kSecond, 0, 1, {kUserCtx, 0x400020}));
    EXPECT_EQ(f.builder->live_address_spaces(), 1u);
    EXPECT_EQ(f.builder->user_addresses().unmapped_frames, 0u);
    f.feed(task(PERF_RECORD_EXIT, 5, 1, 6, 5, t0 + 4 * kSecond));  // the last thread
    f.feed(sample_bytes(10, kK1, 9, 9, t0 + 6 * kSecond, 0, 1, {kKernelCtx, kK1}));
    EXPECT_EQ(f.builder->live_address_spaces(), 0u);
    EXPECT_EQ(f.profile.mappings.size(), 1u);
}

// exec ends the old image's address space; the new image's stacks are its own.
TEST(ProfileBuilderStreaming, ExecRetiresTheOldImage) {
    Fixture f(true);
    const uint64_t t0 = 10 * kSecond;
    f.feed(mmap2_at(7, 0x400000, 0x1000, 0, "/bin/sh", t0));
    f.feed(sample_bytes(10, kU1, 7, 7, t0 + 1, 0, 1, {kUserCtx, 0x400010}));
    f.feed(comm(7, 7, "ls", true, t0 + 2));
    f.feed(mmap2_at(7, 0x400000, 0x1000, 0, "/bin/ls", t0 + 3));
    f.feed(sample_bytes(10, kU1, 7, 7, t0 + 4, 0, 1, {kUserCtx, 0x400010}));
    f.feed(sample_bytes(10, kU1, 7, 7, t0 + 2 * kSecond, 0, 1, {kUserCtx, 0x400010}));
    EXPECT_EQ(f.builder->live_address_spaces(), 1u);
    f.take_stacks();
    ASSERT_EQ(f.written.size(), 2u);
    EXPECT_EQ(f.written.get(0).generation, 0u);
    EXPECT_EQ(f.written.get(1).generation, 1u);
    EXPECT_EQ(f.profile.samples[1].stack, f.profile.samples[2].stack);
    f.builder->finalize();
    ASSERT_EQ(f.profile.mappings.size(), 2u);
    EXPECT_EQ(f.profile.dsos[f.profile.mappings[0].dso].path, "/bin/sh");
    EXPECT_EQ(f.profile.dsos[f.profile.mappings[1].dso].path, "/bin/ls");
}

// A forked child resolves through the copies of its parent's mappings.
TEST(ProfileBuilderStreaming, ForkedChildUsesItsParentsMappings) {
    Fixture f(true);
    const uint64_t t0 = 10 * kSecond;
    f.feed(mmap2_at(7, 0x400000, 0x1000, 0, "/bin/sh", t0));
    f.feed(task(PERF_RECORD_FORK, 8, 7, 8, 7, t0 + 1));
    f.feed(sample_bytes(10, kU1, 8, 8, t0 + 2, 0, 1, {kUserCtx, 0x400010}));
    f.builder->finalize();
    ASSERT_EQ(f.profile.mappings.size(), 1u);  // the parent's copy was not hit
    EXPECT_EQ(f.profile.mappings[0].pid, 8u);
    EXPECT_EQ(f.profile.mappings[0].time_ns, t0 + 1);
    EXPECT_EQ(f.builder->user_addresses().by_dso.at(0).at(0x10).frames, 1u);
}

}  // namespace
}  // namespace kprof::collector

namespace kprof::collector {
namespace {

// --call-graph dwarf with synthetic records: the builder hands the unwinder each process's
// mappings and replaces the sample's user frames (none: the kernel walks only its own) by
// the unwound ones. The binaries named here do not exist, so each unwind ends at the
// sampled pc, with the binary counted as unreadable: which shows the mapping got there.
struct DwarfFixture : Fixture {
    UserUnwinder unwinder;
    DwarfFixture() {
        layout = dwarf_layout();
        builder->unwind_user_stacks(unwinder, kUnwindRegsMask, 127);
    }
    static UserCopy user_at(uint64_t ip) {
        UserCopy u;
        u.regs.assign(17, 0);
        u.regs[8] = ip;              // IP is mask bit 8
        u.regs[7] = 0x7ffc00000000;  // SP
        u.stack.assign(64, 0);
        return u;
    }
};

TEST(ProfileBuilderDwarf, KernelFramesThenTheUnwoundUserFrames) {
    DwarfFixture f;
    f.feed(mmap2(7, 0x400000, "/nonexistent/kprof-test-binary", 10));
    // A sample in a system call: the kernel's frames, and the user registers at entry.
    f.feed(dwarf_sample_bytes(10, kK1, 7, 20, {kKernelCtx, kK1, kK2}, f.user_at(0x400123)));
    // A sample in user mode: no callchain at all in dwarf mode.
    f.feed(dwarf_sample_bytes(10, 0x400456, 7, 21, {}, f.user_at(0x400456)));
    ASSERT_EQ(f.profile.samples.size(), 2u);
    const StackView sys = f.profile.stacks.get(f.profile.samples[0].stack);
    EXPECT_EQ(std::vector<uint64_t>(sys.ips.begin(), sys.ips.end()),
              (std::vector<uint64_t>{kK1, kK2, 0x400123}));
    EXPECT_EQ(sys.kernel_depth, 2u);
    const StackView user = f.profile.stacks.get(f.profile.samples[1].stack);
    EXPECT_EQ(std::vector<uint64_t>(user.ips.begin(), user.ips.end()),
              (std::vector<uint64_t>{0x400456}));
    EXPECT_EQ(user.kernel_depth, 0u);
    EXPECT_EQ(f.unwinder.stats().stacks, 2u);
    EXPECT_EQ(f.unwinder.stats().unreadable, 1u) << "the process's mapping reached the unwinder";
}

TEST(ProfileBuilderDwarf, SamplesWithoutUserRegistersKeepTheirCallchain) {
    DwarfFixture f;
    f.feed(dwarf_sample_bytes(10, kK1, 0, 20, {kKernelCtx, kK1, kK2}, no_user_copy()));
    const StackView s = f.profile.stacks.get(f.profile.samples.at(0).stack);
    EXPECT_EQ(std::vector<uint64_t>(s.ips.begin(), s.ips.end()), (std::vector<uint64_t>{kK1, kK2}));
    EXPECT_EQ(f.unwinder.stats().stacks, 0u);
}

TEST(ProfileBuilderDwarf, ForkedChildrenAreUnwoundAndEndedProcessesForgotten) {
    DwarfFixture f;
    f.builder->add_thread(7, 7, 1, "parent", 1);
    f.feed(mmap2(7, 0x400000, "/nonexistent/kprof-test-binary", 10));
    f.feed(task(PERF_RECORD_FORK, 8, 7, 8, 7, 20));
    f.feed(dwarf_sample_bytes(10, 0x400456, 8, 30, {}, f.user_at(0x400456)));
    EXPECT_EQ(f.unwinder.stats().unreadable, 1u) << "the child got its parent's mapping";
    EXPECT_EQ(f.unwinder.live_spaces(), 2u);
    f.feed(task(PERF_RECORD_EXIT, 8, 7, 8, 7, 40));
    f.feed(comm(7, 7, "newname", true, 50));  // the parent execs: its old image ends
    EXPECT_EQ(f.unwinder.live_spaces(), 2u) << "a sample may still come within a second";
    // A second later, a sample of another process: only its own space is left.
    f.feed(dwarf_sample_bytes(10, 0x400456, 9, 2'000'000'000, {}, f.user_at(0x400456)));
    EXPECT_EQ(f.unwinder.live_spaces(), 1u);
}

}  // namespace
}  // namespace kprof::collector
