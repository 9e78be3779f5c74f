// From decoded records to the trace model: threads, exec generations, mappings, shared
// kernel-only stacks, and loss accounting per CPU.
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include "collector/profile_builder.hpp"
#include "record_bytes.hpp"

namespace kprof::collector {
namespace {

using testing::collector_layout;
using testing::RecordBytes;
using testing::sample_bytes;

constexpr uint64_t kKernelCtx = static_cast<uint64_t>(PERF_CONTEXT_KERNEL);
constexpr uint64_t kUserCtx = static_cast<uint64_t>(PERF_CONTEXT_USER);
constexpr uint64_t kK1 = 0xffffffff81234567ULL;
constexpr uint64_t kK2 = 0xffffffff81000100ULL;
constexpr uint64_t kU1 = 0x55555555a000ULL;

struct Fixture {
    Profile profile;
    std::unique_ptr<ProfileBuilder> builder;
    Fixture() {
        profile.events = {EventDesc{.name = "cpu-clock"}, EventDesc{.name = "net:net_dev_xmit"}};
        builder = std::make_unique<ProfileBuilder>(
            profile, std::unordered_map<uint64_t, int>{{10, 0}, {11, 0}, {20, 1}},
            std::vector<uint32_t>{0, 1});
    }
    void feed(const std::vector<uint8_t>& bytes, uint32_t cpu = 0) {
        builder->add(decode_record(bytes, collector_layout()), cpu);
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

}  // namespace
}  // namespace kprof::collector
