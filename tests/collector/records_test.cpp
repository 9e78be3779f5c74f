// Ring record decoding from synthetic bytes laid out as the kernel writes them.
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/mman.h>

#include "collector/records.hpp"
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
constexpr uint64_t kU2 = 0x7f0000001000ULL;

TEST(DecodeRecord, SampleFieldsAndCallchain) {
    auto bytes = sample_bytes(77, kK1, 100, 101, 123456789, 1, 1000,
                              {kKernelCtx, kK1, kK2, kUserCtx, kU1, kU2});
    Record r = decode_record(bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<SampleRecord>(r));
    const auto& s = std::get<SampleRecord>(r);
    EXPECT_EQ(s.id, 77u);
    EXPECT_EQ(s.ip, kK1);
    EXPECT_EQ(s.pid, 100u);
    EXPECT_EQ(s.tid, 101u);
    EXPECT_EQ(s.time, 123456789u);
    EXPECT_EQ(s.cpu, 1u);
    EXPECT_EQ(s.period, 1000u);
    ASSERT_EQ(s.nr_callchain, 6u);
    EXPECT_EQ(s.callchain_word(1), kK1);
    EXPECT_EQ(s.callchain_word(5), kU2);
    EXPECT_EQ(record_time(r), 123456789u);
}

TEST(DecodeRecord, SampleWithoutCallchainLayout) {
    RecordBytes b(PERF_RECORD_SAMPLE);
    b.u64(5).u64(kU1).u32(9).u32(9).u64(42).u32(0).u32(0).u64(1);
    auto bytes = b.done();
    Record r = decode_record(bytes, collector_layout(false));
    ASSERT_TRUE(std::holds_alternative<SampleRecord>(r));
    const auto& s = std::get<SampleRecord>(r);
    EXPECT_EQ(s.nr_callchain, 0u);
    std::vector<uint64_t> ips;
    uint32_t kd = 99;
    callchain_to_stack(s, ips, kd, 127);
    EXPECT_EQ(ips, std::vector<uint64_t>{kU1});
    EXPECT_EQ(kd, 0u);
}

TEST(DecodeRecord, CallchainLongerThanRecordIsMalformed) {
    auto bytes = sample_bytes(1, kK1, 1, 1, 1, 0, 1, {kKernelCtx, kK1});
    // Claim 1000 callchain entries: nr sits right after the period.
    const uint64_t nr = 1000;
    std::memcpy(bytes.data() + 8 + 8 + 8 + 8 + 8 + 8 + 8, &nr, 8);
    Record r = decode_record(bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<MalformedRecord>(r));
    EXPECT_EQ(std::get<MalformedRecord>(r).type, PERF_RECORD_SAMPLE);
}

std::vector<uint64_t> seventeen_registers() {
    std::vector<uint64_t> regs;
    for (uint64_t i = 0; i < 17; ++i) regs.push_back(0x1000 + i);
    return regs;
}

TEST(DecodeRecord, DwarfSampleCarriesUserRegistersAndTheValidStackBytes) {
    std::vector<uint8_t> stack(64);
    for (size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<uint8_t>(i);
    const auto bytes =
        dwarf_sample_bytes(10, kK1, 7, 99, {kKernelCtx, kK1, kK2},
                           UserCopy{.regs = seventeen_registers(), .stack = stack, .valid = 40});
    Record r = decode_record(bytes, dwarf_layout());
    ASSERT_TRUE(std::holds_alternative<SampleRecord>(r));
    const auto& s = std::get<SampleRecord>(r);
    EXPECT_EQ(s.nr_callchain, 3u);
    EXPECT_EQ(s.regs_abi, kRegsAbi64);
    ASSERT_EQ(s.user_regs.size(), 17u * 8);
    EXPECT_EQ(s.user_reg(0), 0x1000u);
    EXPECT_EQ(s.user_reg(16), 0x1010u);
    // The kernel copied 64 bytes but only 40 were readable (dyn_size).
    ASSERT_EQ(s.user_stack.size(), 40u);
    EXPECT_EQ(s.user_stack[39], 39);
}

TEST(DecodeRecord, DwarfSampleOfAKernelThreadHasNoUserCopies) {
    const auto bytes = dwarf_sample_bytes(10, kK1, 0, 99, {kKernelCtx, kK1}, no_user_copy());
    Record r = decode_record(bytes, dwarf_layout());
    ASSERT_TRUE(std::holds_alternative<SampleRecord>(r));
    const auto& s = std::get<SampleRecord>(r);
    EXPECT_EQ(s.regs_abi, 0u);
    EXPECT_TRUE(s.user_regs.empty());
    EXPECT_TRUE(s.user_stack.empty());
}

TEST(DecodeRecord, DwarfSampleCutShortIsMalformed) {
    const auto whole = dwarf_sample_bytes(
        10, kU1, 7, 99, {},
        UserCopy{.regs = seventeen_registers(), .stack = std::vector<uint8_t>(64)});
    // Every cut inside the registers, the stack or its dyn_size word.
    for (size_t size = whole.size() - 8; size > whole.size() - 8 - 64 - 8 - 17 * 8; size -= 8) {
        std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(size));
        const uint16_t n = static_cast<uint16_t>(size);
        std::memcpy(cut.data() + 6, &n, 2);
        EXPECT_TRUE(std::holds_alternative<MalformedRecord>(decode_record(cut, dwarf_layout())))
            << size;
    }
}

TEST(DecodeRecord, Mmap2) {
    RecordBytes b(PERF_RECORD_MMAP2);
    b.u32(200).u32(201).u64(0x400000).u64(0x2000).u64(0x1000);
    b.u32(8).u32(1).u64(1234).u64(0);  // maj, min, ino, ino_generation
    b.u32(PROT_READ | PROT_EXEC).u32(MAP_PRIVATE).str("/usr/bin/true");
    b.sample_id(200, 201, 555, 0, 3);
    auto bytes = b.done();
    Record r = decode_record(bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<MmapRecord>(r));
    const auto& m = std::get<MmapRecord>(r);
    EXPECT_EQ(m.pid, 200u);
    EXPECT_EQ(m.tid, 201u);
    EXPECT_EQ(m.addr, 0x400000u);
    EXPECT_EQ(m.len, 0x2000u);
    EXPECT_EQ(m.pgoff, 0x1000u);
    EXPECT_TRUE(m.executable);
    EXPECT_EQ(m.filename, "/usr/bin/true");
    EXPECT_TRUE(m.sid.present);
    EXPECT_EQ(m.sid.time, 555u);
    EXPECT_EQ(m.sid.id, 3u);
    EXPECT_EQ(record_time(r), 555u);
}

TEST(DecodeRecord, Mmap2DataMappingIsNotExecutable) {
    RecordBytes b(PERF_RECORD_MMAP2);
    b.u32(1).u32(1).u64(0x1000).u64(0x1000).u64(0).u32(0).u32(0).u64(0).u64(0);
    b.u32(PROT_READ | PROT_WRITE).u32(MAP_SHARED).str("/tmp/data");
    b.sample_id(1, 1, 1, 0, 1);
    auto bytes = b.done();
    EXPECT_FALSE(std::get<MmapRecord>(decode_record(bytes, collector_layout())).executable);
}

TEST(DecodeRecord, CommWithExecFlag) {
    RecordBytes b(PERF_RECORD_COMM, PERF_RECORD_MISC_COMM_EXEC);
    b.u32(300).u32(300).str("socket-worker");
    b.sample_id(300, 300, 999, 1, 4);
    auto bytes = b.done();
    Record r = decode_record(bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<CommRecord>(r));
    const auto& c = std::get<CommRecord>(r);
    EXPECT_EQ(c.pid, 300u);
    EXPECT_EQ(c.comm, "socket-worker");
    EXPECT_TRUE(c.exec);
    EXPECT_EQ(c.sid.time, 999u);

    RecordBytes plain(PERF_RECORD_COMM);
    plain.u32(300).u32(301).str("worker").sample_id(300, 301, 1000, 1, 4);
    auto plain_bytes = plain.done();
    EXPECT_FALSE(std::get<CommRecord>(decode_record(plain_bytes, collector_layout())).exec);
}

TEST(DecodeRecord, ForkAndExit) {
    RecordBytes f(PERF_RECORD_FORK);
    f.u32(400).u32(300).u32(401).u32(300).u64(2000).sample_id(400, 401, 2000, 0, 4);
    auto fork_bytes = f.done();
    Record r = decode_record(fork_bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<TaskRecord>(r));
    const auto& t = std::get<TaskRecord>(r);
    EXPECT_FALSE(t.exit);
    EXPECT_EQ(t.pid, 400u);
    EXPECT_EQ(t.ppid, 300u);
    EXPECT_EQ(t.tid, 401u);
    EXPECT_EQ(t.ptid, 300u);
    EXPECT_EQ(t.time, 2000u);

    RecordBytes e(PERF_RECORD_EXIT);
    e.u32(400).u32(300).u32(401).u32(300).u64(3000).sample_id(400, 401, 3000, 0, 4);
    auto exit_bytes = e.done();
    Record x = decode_record(exit_bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<TaskRecord>(x));
    EXPECT_TRUE(std::get<TaskRecord>(x).exit);
    EXPECT_EQ(record_time(x), 3000u);
}

TEST(DecodeRecord, LostLostSamplesThrottle) {
    RecordBytes l(PERF_RECORD_LOST);
    l.u64(4).u64(17).sample_id(0, 0, 10, 1, 4);
    auto lb = l.done();
    Record lost = decode_record(lb, collector_layout());
    ASSERT_TRUE(std::holds_alternative<LostRecord>(lost));
    EXPECT_EQ(std::get<LostRecord>(lost).lost, 17u);
    EXPECT_EQ(std::get<LostRecord>(lost).id, 4u);

    RecordBytes ls(PERF_RECORD_LOST_SAMPLES);
    ls.u64(5).sample_id(0, 0, 11, 1, 4);
    auto lsb = ls.done();
    Record lost_samples = decode_record(lsb, collector_layout());
    ASSERT_TRUE(std::holds_alternative<LostSamplesRecord>(lost_samples));
    EXPECT_EQ(std::get<LostSamplesRecord>(lost_samples).lost, 5u);

    for (uint32_t type : {PERF_RECORD_THROTTLE, PERF_RECORD_UNTHROTTLE}) {
        RecordBytes t(type);
        t.u64(12).u64(4).u64(4).sample_id(0, 0, 12, 1, 4);
        auto tb = t.done();
        Record th = decode_record(tb, collector_layout());
        ASSERT_TRUE(std::holds_alternative<ThrottleRecord>(th));
        EXPECT_EQ(std::get<ThrottleRecord>(th).unthrottle, type == PERF_RECORD_UNTHROTTLE);
        EXPECT_EQ(std::get<ThrottleRecord>(th).time, 12u);
    }
}

TEST(DecodeRecord, UnknownTypeIsSkippedBySize) {
    RecordBytes u(PERF_RECORD_SWITCH_CPU_WIDE);
    u.u32(1).u32(2).sample_id(0, 0, 5, 0, 4);
    auto bytes = u.done();
    Record r = decode_record(bytes, collector_layout());
    ASSERT_TRUE(std::holds_alternative<UnknownRecord>(r));
    EXPECT_EQ(std::get<UnknownRecord>(r).size, bytes.size());
}

TEST(DecodeRecord, TruncatedInputsAreMalformedNotCrashes) {
    auto bytes = sample_bytes(1, kK1, 1, 1, 1, 0, 1, {kKernelCtx, kK1, kK2});
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
        // Also rewrite the header size to the cut length, so the record claims to be short.
        if (n >= 8) {
            const uint16_t sz = static_cast<uint16_t>(n);
            std::memcpy(cut.data() + 6, &sz, 2);
        }
        Record r = decode_record(cut, collector_layout());
        EXPECT_TRUE(std::holds_alternative<MalformedRecord>(r)) << "length " << n;
    }
}

TEST(CallchainToStack, MarkersGiveKernelDepth) {
    auto bytes = sample_bytes(1, kK1, 1, 1, 1, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1, kU2});
    const auto s = std::get<SampleRecord>(decode_record(bytes, collector_layout()));
    std::vector<uint64_t> ips;
    uint32_t kd = 0;
    callchain_to_stack(s, ips, kd, 127);
    EXPECT_EQ(ips, (std::vector<uint64_t>{kK1, kK2, kU1, kU2}));
    EXPECT_EQ(kd, 2u);
}

TEST(CallchainToStack, UserOnlyAndKernelOnly) {
    std::vector<uint64_t> ips;
    uint32_t kd = 99;
    auto user = sample_bytes(1, kU1, 1, 1, 1, 0, 1, {kUserCtx, kU1, kU2});
    callchain_to_stack(std::get<SampleRecord>(decode_record(user, collector_layout())), ips, kd,
                       127);
    EXPECT_EQ(ips, (std::vector<uint64_t>{kU1, kU2}));
    EXPECT_EQ(kd, 0u);

    auto kernel = sample_bytes(1, kK1, 1, 1, 1, 0, 1, {kKernelCtx, kK1, kK2});
    callchain_to_stack(std::get<SampleRecord>(decode_record(kernel, collector_layout())), ips, kd,
                       127);
    EXPECT_EQ(ips, (std::vector<uint64_t>{kK1, kK2}));
    EXPECT_EQ(kd, 2u);
}

TEST(CallchainToStack, GuestAndHypervisorFramesAreDropped) {
    std::vector<uint64_t> ips;
    uint32_t kd = 0;
    auto bytes = sample_bytes(
        1, kK1, 1, 1, 1, 0, 1,
        {static_cast<uint64_t>(PERF_CONTEXT_HV), 0x1234, kKernelCtx, kK1,
         static_cast<uint64_t>(PERF_CONTEXT_GUEST_KERNEL), 0xffffffff99999999ULL, kUserCtx, kU1});
    callchain_to_stack(std::get<SampleRecord>(decode_record(bytes, collector_layout())), ips, kd,
                       127);
    EXPECT_EQ(ips, (std::vector<uint64_t>{kK1, kU1}));
    EXPECT_EQ(kd, 1u);
}

TEST(CallchainToStack, MaxDepthCutsTheRoot) {
    std::vector<uint64_t> ips;
    uint32_t kd = 0;
    auto bytes = sample_bytes(1, kK1, 1, 1, 1, 0, 1, {kKernelCtx, kK1, kK2, kUserCtx, kU1, kU2});
    callchain_to_stack(std::get<SampleRecord>(decode_record(bytes, collector_layout())), ips, kd,
                       3);
    EXPECT_EQ(ips, (std::vector<uint64_t>{kK1, kK2, kU1}));
    EXPECT_EQ(kd, 2u);
}

TEST(CallchainToStack, EmptyCallchainFallsBackToIp) {
    std::vector<uint64_t> ips;
    uint32_t kd = 0;
    auto bytes = sample_bytes(1, kK2, 1, 1, 1, 0, 1, {kKernelCtx});
    callchain_to_stack(std::get<SampleRecord>(decode_record(bytes, collector_layout())), ips, kd,
                       127);
    EXPECT_EQ(ips, std::vector<uint64_t>{kK2});
    EXPECT_EQ(kd, 1u);
}

// A ring's data area holding `records` starting at position `start` (wrapping).
std::vector<uint8_t> ring_with(size_t size, uint64_t start,
                               const std::vector<std::vector<uint8_t>>& records, uint64_t* head) {
    std::vector<uint8_t> ring(size, 0xAA);
    uint64_t pos = start;
    for (const auto& r : records)
        for (uint8_t b : r) ring[pos++ % size] = b;
    *head = pos;
    return ring;
}

TEST(WalkRing, RecordWrappingTheEndIsCopiedWhole) {
    auto a = sample_bytes(1, kK1, 1, 1, 10, 0, 1, {kKernelCtx, kK1});
    auto b = sample_bytes(1, kK2, 2, 2, 20, 0, 1, {kKernelCtx, kK2, kUserCtx, kU1});
    auto c = sample_bytes(1, kK1, 3, 3, 30, 0, 1, {kKernelCtx, kK1});
    const size_t size = 256;
    // Start so that `b` straddles the end of the area.
    const uint64_t start = 1000 * size + size - a.size() - 24;
    uint64_t head = 0;
    auto ring = ring_with(size, start, {a, b, c}, &head);
    std::vector<uint8_t> scratch;
    std::vector<std::vector<uint8_t>> seen;
    const uint64_t tail =
        walk_ring(std::span<const uint8_t>(ring), start, head, scratch,
                  [&](std::span<const uint8_t> rec) { seen.emplace_back(rec.begin(), rec.end()); });
    EXPECT_EQ(tail, head);
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0], a);
    EXPECT_EQ(seen[1], b);
    EXPECT_EQ(seen[2], c);
    const auto s = std::get<SampleRecord>(decode_record(seen[1], collector_layout()));
    EXPECT_EQ(s.pid, 2u);
    EXPECT_EQ(s.callchain_word(3), kU1);
}

TEST(WalkRing, HeaderItselfWrapping) {
    auto a = sample_bytes(1, kK1, 7, 7, 10, 0, 1, {kKernelCtx, kK1});
    const size_t size = 128;
    const uint64_t start = size - 4;  // even the 8-byte header is split
    uint64_t head = 0;
    auto ring = ring_with(size, start, {a}, &head);
    std::vector<uint8_t> scratch;
    int n = 0;
    walk_ring(std::span<const uint8_t>(ring), start, head, scratch,
              [&](std::span<const uint8_t> rec) {
                  ++n;
                  EXPECT_EQ(std::vector<uint8_t>(rec.begin(), rec.end()), a);
              });
    EXPECT_EQ(n, 1);
}

TEST(WalkRing, UnknownRecordInTheMiddleIsSkipped) {
    auto a = sample_bytes(1, kK1, 1, 1, 10, 0, 1, {kKernelCtx, kK1});
    RecordBytes u(0x7777);
    u.u64(1).u64(2).u64(3);
    auto unknown = u.done();
    auto c = sample_bytes(1, kK2, 3, 3, 30, 0, 1, {kKernelCtx, kK2});
    uint64_t head = 0;
    auto ring = ring_with(512, 0, {a, unknown, c}, &head);
    std::vector<uint8_t> scratch;
    std::vector<Record> decoded;
    walk_ring(std::span<const uint8_t>(ring), 0, head, scratch, [&](std::span<const uint8_t> rec) {
        decoded.push_back(decode_record(rec, collector_layout()));
    });
    ASSERT_EQ(decoded.size(), 3u);
    EXPECT_TRUE(std::holds_alternative<SampleRecord>(decoded[0]));
    EXPECT_TRUE(std::holds_alternative<UnknownRecord>(decoded[1]));
    ASSERT_TRUE(std::holds_alternative<SampleRecord>(decoded[2]));
    EXPECT_EQ(std::get<SampleRecord>(decoded[2]).ip, kK2);
}

TEST(WalkRing, ImpossibleSizeStopsAndCountsCorruptBytes) {
    auto a = sample_bytes(1, kK1, 1, 1, 10, 0, 1, {kKernelCtx, kK1});
    uint64_t head = 0;
    auto ring = ring_with(256, 0, {a}, &head);
    // A header claiming 4 bytes (smaller than a header) after the first record.
    std::vector<uint8_t> bad = {1, 0, 0, 0, 0, 0, 4, 0};
    std::copy(bad.begin(), bad.end(), ring.begin() + static_cast<ptrdiff_t>(head));
    const uint64_t head2 = head + 16;
    std::vector<uint8_t> scratch;
    uint64_t corrupt = 0;
    int n = 0;
    const uint64_t tail = walk_ring(
        std::span<const uint8_t>(ring), 0, head2, scratch, [&](std::span<const uint8_t>) { ++n; },
        &corrupt);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(tail, head2);
    EXPECT_EQ(corrupt, 16u);
}

}  // namespace
}  // namespace kprof::collector
