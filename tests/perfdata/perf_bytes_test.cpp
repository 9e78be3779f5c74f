// The perf.data reader on hand-built byte sequences: every record type it decodes, pipe
// mode, zstd-compressed records, the other byte order, and broken input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "import/imports.hpp"
#include "import/perf_reader.hpp"
#include "support/test_support.hpp"
#include "symbols/unwind.hpp"
#include "tests/perfdata/perf_builder.hpp"
#include "trace/error.hpp"

namespace kprof {
namespace {

using test::AttrSpec;
using test::Buf;
using test::RecordWriter;
using test::SampleSpec;
namespace st = test::st;

constexpr uint64_t kK1 = 0xffffffff81001010ULL;  // in do_syscall_64 of the fake kallsyms
constexpr uint64_t kK2 = 0xffffffff81002020ULL;  // in vfs_write
constexpr uint64_t kU1 = 0x401010, kU2 = 0x402020;
constexpr uint16_t kMiscUser = 2;

using test::TempDir;

class PerfBytesTest : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        std::ofstream(dir_.file("kallsyms")) << "ffffffff81000000 T _text\n"
                                                "ffffffff81001000 T do_syscall_64\n"
                                                "ffffffff81002000 T vfs_write\n"
                                                "ffffffff81003000 T _etext\n"
                                                "ffffffffc0001000 t e1000_xmit\t[e1000]\n";
        options_.kallsyms_path = dir_.file("kallsyms");
        options_.symbolize_user = false;
    }
    bool be() const { return GetParam(); }
    RecordWriter writer(AttrSpec a = {}) const { return RecordWriter(be(), std::move(a)); }
    Profile import(const std::vector<uint8_t>& bytes) const {
        return import_perf_data_bytes(bytes, options_);
    }
    std::vector<uint64_t> ips(const Profile& p, const Sample& s) const {
        const StackView v = p.stacks.get(s.stack);
        return {v.ips.begin(), v.ips.end()};
    }

    TempDir dir_;
    ImportOptions options_;
};

TEST_P(PerfBytesTest, SampleCallchainMetadataAndBuildIds) {
    AttrSpec a;
    a.ids = {7};
    const RecordWriter w = writer(a);
    const std::vector<std::vector<uint8_t>> records = {
        w.comm(100, 100, "busy", false, 10),
        w.mmap2(100, 0x400000, 0x10000, 0, "/usr/bin/busy", 20),
        w.sample({.ip = kK1,
                  .pid = 100,
                  .tid = 101,
                  .time = 30,
                  .cpu = 1,
                  .period = 4000,
                  .callchain = {test::kCtxKernel, kK1, kK2, test::kCtxUser, kU1, kU2}}),
    };
    Buf cmd(be());
    cmd.u32(3);
    for (const char* arg : {"perf", "record", "-g"}) cmd.feature_string(arg);
    Buf cpus(be());
    cpus.u32(4);
    cpus.u32(2);
    const Profile p = import(test::file_image(
        be(), {a}, records,
        {test::string_feature(be(), test::kFeatHostname, "box"),
         test::string_feature(be(), test::kFeatOsrelease, "6.1.0-test"),
         test::string_feature(be(), test::kFeatArch, "x86_64"),
         {test::kFeatNrcpus, cpus.data()},
         {test::kFeatCmdline, cmd.data()},
         test::event_desc_feature(be(), {a}, {"cpu-clock"}),
         test::build_id_feature(be(), "/usr/bin/busy", {0xde, 0xad, 0xbe, 0xef})}));

    EXPECT_EQ(p.meta.source_format, "perf.data");
    EXPECT_EQ(p.meta.hostname, "box");
    EXPECT_EQ(p.meta.kernel_release, "6.1.0-test");
    EXPECT_EQ(p.meta.arch, "x86_64");
    EXPECT_EQ(p.meta.command_line, "perf record -g");
    EXPECT_EQ(p.meta.nr_cpus, 4u);
    ASSERT_EQ(p.events.size(), 1u);
    EXPECT_EQ(p.events[0].name, "cpu-clock");
    EXPECT_TRUE(p.events[0].use_freq);
    EXPECT_EQ(p.events[0].freq_or_period, 4000u);
    EXPECT_EQ(p.events[0].samples, 1u);

    ASSERT_EQ(p.samples.size(), 1u);
    const Sample& s = p.samples[0];
    EXPECT_EQ(s.pid, 100u);
    EXPECT_EQ(s.tid, 101u);
    EXPECT_EQ(s.cpu, 1u);
    EXPECT_EQ(s.time_ns, 30u);
    EXPECT_EQ(s.period, 4000u);
    EXPECT_EQ(ips(p, s), (std::vector<uint64_t>{kK1, kK2, kU1, kU2}));
    EXPECT_EQ(p.stacks.get(s.stack).kernel_depth, 2u);
    EXPECT_EQ(p.stacks.get(s.stack).pid, 100u);

    ASSERT_EQ(p.dsos.size(), 1u);
    EXPECT_EQ(p.dsos[0].path, "/usr/bin/busy");
    EXPECT_EQ(p.dsos[0].build_id, "deadbeef");
    ASSERT_EQ(p.mappings.size(), 1u);
    EXPECT_EQ(p.mappings[0].pid, 100u);
    EXPECT_EQ(p.mappings[0].start, 0x400000u);
    EXPECT_EQ(p.mappings[0].len, 0x10000u);
    EXPECT_EQ(p.mappings[0].time_ns, 20u);
    const Thread* t = p.find_thread(100);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->comm, "busy");
    ASSERT_NE(p.find_thread(101), nullptr);  // seen in a sample only
    EXPECT_EQ(p.kernel_symbols.size(), 5u);
}

TEST_P(PerfBytesTest, NoCallchainUsesTheSampledIp) {
    AttrSpec a;
    a.sample_type = st::ip | st::tid | st::time;
    const RecordWriter w = writer(a);
    const Profile p = import(
        test::file_image(be(), {a},
                         {w.sample({.ip = kK1, .pid = 5, .tid = 5, .time = 1}),
                          w.sample({.ip = kU1, .pid = 5, .tid = 5, .time = 2, .misc = kMiscUser})},
                         {}));
    ASSERT_EQ(p.samples.size(), 2u);
    EXPECT_EQ(ips(p, p.samples[0]), std::vector<uint64_t>{kK1});
    EXPECT_EQ(p.stacks.get(p.samples[0].stack).kernel_depth, 1u);
    EXPECT_EQ(ips(p, p.samples[1]), std::vector<uint64_t>{kU1});
    EXPECT_EQ(p.stacks.get(p.samples[1].stack).kernel_depth, 0u);
    // No PERIOD in the sample, frequency mode: each sample weighs one.
    EXPECT_EQ(p.samples[0].period, 1u);
    EXPECT_EQ(p.events[0].name, "cpu-clock");  // no EVENT_DESC: named from type/config
}

TEST_P(PerfBytesTest, CommExecStartsNewGenerationInTimeOrder) {
    const RecordWriter w = writer();
    const auto user_sample = [&](uint64_t time) {
        return w.sample({.ip = kU1,
                         .pid = 100,
                         .tid = 100,
                         .time = time,
                         .callchain = {test::kCtxUser, kU1},
                         .misc = kMiscUser});
    };
    // File order is not time order (perf writes per-CPU buffers in rounds).
    const Profile p = import(test::file_image(
        be(), {AttrSpec{}},
        {w.comm(100, 100, "sh", false, 1), w.mmap2(100, 0x400000, 0x10000, 0, "/bin/sh", 10),
         user_sample(30), w.comm(100, 100, "ls", true, 20),
         w.mmap2(100, 0x400000, 0x10000, 0, "/bin/ls", 21), user_sample(15)},
        {}));
    ASSERT_EQ(p.samples.size(), 2u);
    ASSERT_EQ(p.mappings.size(), 2u);
    for (const Sample& s : p.samples) {
        const StackView v = p.stacks.get(s.stack);
        EXPECT_EQ(v.generation, s.time_ns == 15 ? 0u : 1u) << "sample at " << s.time_ns;
        const Mapping& m = p.mappings[v.generation];
        EXPECT_EQ(m.generation, v.generation);
        EXPECT_EQ(p.dsos[m.dso].path, v.generation == 0 ? "/bin/sh" : "/bin/ls");
    }
    EXPECT_EQ(p.find_thread(100)->comm, "ls");
}

TEST_P(PerfBytesTest, ForkCopiesTheParentsMappingsAndExitIsRecorded) {
    const RecordWriter w = writer();
    const Profile p = import(test::file_image(
        be(), {AttrSpec{}},
        {w.comm(100, 100, "sh", false, 1), w.mmap2(100, 0x400000, 0x10000, 0, "/bin/sh", 2),
         w.task(true, 200, 100, 200, 100, 50),
         w.sample({.ip = kU1,
                   .pid = 200,
                   .tid = 200,
                   .time = 60,
                   .callchain = {test::kCtxUser, kU1},
                   .misc = kMiscUser}),
         w.task(false, 200, 100, 200, 100, 70)},
        {}));
    const Thread* child = p.find_thread(200);
    ASSERT_NE(child, nullptr);
    EXPECT_EQ(child->ppid, 100u);
    EXPECT_EQ(child->comm, "sh");
    EXPECT_EQ(child->start_ns, 50u);
    EXPECT_EQ(child->exit_ns, 70u);
    const StackView v = p.stacks.get(p.samples.at(0).stack);
    bool mapped = false;
    for (const Mapping& m : p.mappings)
        if (m.pid == 200 && m.generation == v.generation && kU1 - m.start < m.len)
            mapped = p.dsos[m.dso].path == "/bin/sh";
    EXPECT_TRUE(mapped);
}

TEST_P(PerfBytesTest, LossesAreCountedPerCpu) {
    const RecordWriter w = writer();
    const Profile p = import(test::file_image(
        be(), {AttrSpec{}},
        {w.lost(5, 1), w.lost_samples(3, 1), w.throttle(true, 0), w.throttle(false, 0)}, {}));
    ASSERT_EQ(p.losses.size(), 2u);
    EXPECT_EQ(p.losses[0].cpu, 0u);
    EXPECT_EQ(p.losses[0].throttles, 1u);
    EXPECT_EQ(p.losses[0].unthrottles, 1u);
    EXPECT_EQ(p.losses[1].cpu, 1u);
    EXPECT_EQ(p.losses[1].lost_records, 5u);
    EXPECT_EQ(p.losses[1].lost_samples, 3u);
    EXPECT_EQ(p.total_lost(), 8u);
}

TEST_P(PerfBytesTest, UnknownRecordTypesAndRoundsAreSkippedBySize) {
    const RecordWriter w = writer();
    const auto s =
        w.sample({.ip = kK1, .pid = 1, .tid = 1, .time = 5, .callchain = {test::kCtxKernel, kK1}});
    const Profile p = import(test::file_image(
        be(), {AttrSpec{}},
        {s, w.unknown(200, 24), w.finished_round(), w.unknown(40, 0), w.unknown(99, 1000), s}, {}));
    EXPECT_EQ(p.samples.size(), 2u);
}

TEST_P(PerfBytesTest, ReadGroupAndRawFieldsAreSkippedCorrectly) {
    AttrSpec a;
    a.sample_type = st::ip | st::tid | st::time | st::read | st::callchain | st::raw;
    a.read_format = 1U << 0 | 1U << 2 | 1U << 3;  // TOTAL_TIME_ENABLED | ID | GROUP
    const RecordWriter w = writer(a);
    const Profile p = import(
        test::file_image(be(), {a},
                         {w.sample({.ip = kK2,
                                    .pid = 1,
                                    .tid = 1,
                                    .time = 1,
                                    .read = {2, 999, 10, 7, 20, 8},  // nr, enabled, {value, id} x 2
                                    .callchain = {test::kCtxKernel, kK2, kK1},
                                    .raw = {1, 2, 3, 4}})},
                         {}));
    ASSERT_EQ(p.samples.size(), 1u);
    EXPECT_EQ(ips(p, p.samples[0]), (std::vector<uint64_t>{kK2, kK1}));
}

TEST_P(PerfBytesTest, DwarfSamplesAreUnwoundFromTheirRegisterAndStackCopies) {
    // perf record --call-graph dwarf: kernel frames only in the callchain, then the user
    // registers (perf's mask, FLAGS/CS/SS included) and stack. The binary does not exist,
    // so the unwind gives the registers' ip alone: which the callchain does not hold.
    AttrSpec a;
    a.sample_type = st::ip | st::tid | st::time | st::callchain | st::regs_user | st::stack_user;
    a.regs_user = kUnwindRegsMask | (0x7ULL << 9);
    const RecordWriter w = writer(a);
    std::vector<uint64_t> regs(20, 0);
    regs[7] = 0x7ffc0000;  // SP
    regs[8] = kU2;         // IP
    auto dwarf_sample = [&](uint64_t time, uint64_t user_ip) {
        regs[8] = user_ip;
        return w.sample({.ip = kK1,
                         .pid = 5,
                         .tid = 5,
                         .time = time,
                         .callchain = {test::kCtxKernel, kK1},
                         .regs_abi = kRegsAbi64,
                         .user_regs = regs,
                         .user_stack = std::vector<uint8_t>(64, 0xab),
                         .stack_valid = 48});
    };
    const std::vector<uint8_t> image =
        test::file_image(be(), {a},
                         {w.mmap2(5, 0x400000, 0x10000, 0, "/nonexistent/kprof-dwarf-test", 1),
                          dwarf_sample(2, kU2), dwarf_sample(3, kU1 + 0x10)},
                         {});

    const perf::Recording rec = perf::read_recording(image, "dwarf");
    ASSERT_EQ(rec.samples.size(), 2u);
    if (be()) {
        // Another machine's byte order: its stack words cannot be unwound here.
        EXPECT_EQ(rec.samples[1].regs_abi, 0u);
        EXPECT_TRUE(rec.user_stacks.empty());
        const Profile p = import(image);
        EXPECT_EQ(ips(p, p.samples[0]), (std::vector<uint64_t>{kK1}));
        return;
    }
    const perf::RawSample& second = rec.samples[1];
    EXPECT_EQ(second.regs_abi, kRegsAbi64);
    ASSERT_EQ(rec.user_regs.size(), 40u);
    EXPECT_EQ(rec.user_regs[second.regs_offset + 8], kU1 + 0x10);
    EXPECT_EQ(second.stack_size, 48u);  // dyn_size: the valid part of the copy
    EXPECT_EQ(second.stack_offset, 48u);
    EXPECT_EQ(rec.user_stacks.size(), 96u);

    const Profile p = import(image);
    ASSERT_EQ(p.samples.size(), 2u);
    EXPECT_EQ(ips(p, p.samples[0]), (std::vector<uint64_t>{kK1, kU2}));
    EXPECT_EQ(ips(p, p.samples[1]), (std::vector<uint64_t>{kK1, kU1 + 0x10}));
    EXPECT_EQ(p.stacks.get(p.samples[1].stack).kernel_depth, 1u);
    ImportOptions no_unwind = options_;
    no_unwind.unwind_user = false;
    const Profile recorded = import_perf_data_bytes(image, no_unwind);
    EXPECT_EQ(ips(recorded, recorded.samples[0]), (std::vector<uint64_t>{kK1}));
}

TEST_P(PerfBytesTest, SampleIdentifierSelectsTheEvent) {
    AttrSpec clock;
    clock.sample_type = st::identifier | st::ip | st::tid | st::time | st::callchain;
    clock.ids = {11, 12};
    AttrSpec xmit = clock;
    xmit.type = 2;  // PERF_TYPE_TRACEPOINT
    xmit.config = 1234;
    xmit.period = 1;
    xmit.flags = test::kSampleIdAllFlag;
    xmit.ids = {22};
    const RecordWriter w = writer(clock);
    const auto sample = [&](uint64_t id, uint64_t ip) {
        return w.sample({.id = id,
                         .ip = ip,
                         .pid = 1,
                         .tid = 1,
                         .time = id,
                         .callchain = {test::kCtxKernel, ip}});
    };
    const Profile p = import(test::file_image(
        be(), {clock, xmit},
        {w.comm(1, 1, "x", false, 1), sample(22, kK2), sample(12, kK1), sample(22, kK2)},
        {test::event_desc_feature(be(), {clock, xmit}, {"cpu-clock", "net:net_dev_xmit"})}));
    ASSERT_EQ(p.events.size(), 2u);
    EXPECT_EQ(p.events[0].name, "cpu-clock");
    EXPECT_EQ(p.events[1].name, "net:net_dev_xmit");
    EXPECT_EQ(p.events[1].type, 2u);
    EXPECT_EQ(p.events[1].config, 1234u);
    EXPECT_FALSE(p.events[1].use_freq);
    EXPECT_EQ(p.events[0].samples, 1u);
    EXPECT_EQ(p.events[1].samples, 2u);
    for (const Sample& s : p.samples) EXPECT_EQ(ips(p, s)[0], s.event == 1 ? kK2 : kK1);
}

TEST_P(PerfBytesTest, CompressedRecordsSpanningChunks) {
    const RecordWriter w = writer();
    std::vector<std::vector<uint8_t>> plain = {w.comm(3, 3, "z", false, 1)};
    for (uint64_t i = 0; i < 50; ++i)
        plain.push_back(w.sample({.ip = kK1,
                                  .pid = 3,
                                  .tid = 3,
                                  .time = 10 + i,
                                  .callchain = {test::kCtxKernel, kK1, i % 2 ? kK2 : kK1}}));
    const Profile expected = import(test::file_image(be(), {AttrSpec{}}, plain, {}));
    for (bool v2 : {false, true}) {
        const Profile p = import(
            test::file_image(be(), {AttrSpec{}}, test::compress_records(be(), plain, v2, 37), {}));
        EXPECT_EQ(p.samples, expected.samples) << (v2 ? "COMPRESSED2" : "COMPRESSED");
        EXPECT_EQ(p.stacks, expected.stacks);
        EXPECT_EQ(p.find_thread(3)->comm, "z");
    }
}

TEST_P(PerfBytesTest, PipeModeWithAttrFeatureEventUpdateAndTracingData) {
    AttrSpec a;
    a.ids = {5};
    const RecordWriter w = writer(a);
    Buf f(be());
    f.u64(0x32454c4946524550ULL);
    f.u64(16);
    Buf attr = w.begin(64, 0);  // HEADER_ATTR
    test::put_attr(attr, a);
    attr.u64(5);
    f.bytes(RecordWriter::end(attr));
    Buf feat = w.begin(80, 0);  // HEADER_FEATURE
    feat.u64(test::kFeatHostname);
    feat.feature_string("pipehost");
    f.bytes(RecordWriter::end(feat));
    Buf name = w.begin(78, 0);  // EVENT_UPDATE, NAME
    name.u64(2);
    name.u64(5);
    name.cstr("task-clock");
    f.bytes(RecordWriter::end(name));
    Buf tracing = w.begin(66, 0);  // HEADER_TRACING_DATA: its payload follows the record
    tracing.u32(24);
    tracing.u32(0);
    f.bytes(RecordWriter::end(tracing));
    for (int i = 0; i < 24; ++i) f.u8(0xff);
    f.bytes(w.comm(9, 9, "piped", false, 1));
    f.bytes(
        w.sample({.ip = kK1, .pid = 9, .tid = 9, .time = 2, .callchain = {test::kCtxKernel, kK1}}));

    const Profile p = import(f.data());
    EXPECT_EQ(p.meta.hostname, "pipehost");
    ASSERT_EQ(p.events.size(), 1u);
    EXPECT_EQ(p.events[0].name, "task-clock");
    ASSERT_EQ(p.samples.size(), 1u);
    EXPECT_EQ(p.find_thread(9)->comm, "piped");
}

TEST_P(PerfBytesTest, KernelSymbolsFollowTheRecordedTextAddress) {
    const RecordWriter w = writer();
    const uint64_t moved = 0xffffffff91000000ULL;
    const Profile p = import(
        test::file_image(be(), {AttrSpec{}},
                         {w.mmap(UINT32_MAX, moved, 0x2000000, moved, "[kernel.kallsyms]_text", 0),
                          w.sample({.ip = moved + 0x1010,
                                    .pid = 1,
                                    .tid = 1,
                                    .time = 1,
                                    .callchain = {test::kCtxKernel, moved + 0x1010}})},
                         {}));
    EXPECT_TRUE(p.mappings.empty());  // the kernel is no user mapping
    bool text = false, module = false;
    for (const KernelSymbol& s : p.kernel_symbols) {
        if (s.name == "do_syscall_64") text = s.addr == moved + 0x1000;
        if (s.name == "e1000_xmit") module = s.addr == 0xffffffffc0001000ULL;
    }
    EXPECT_TRUE(text);
    EXPECT_TRUE(module);
}

INSTANTIATE_TEST_SUITE_P(ByteOrder, PerfBytesTest, ::testing::Values(false, true),
                         [](const auto& info) {
                             return info.param ? "BigEndian" : "LittleEndian";
                         });

// A complete small file, to break in the tests below.
std::vector<uint8_t> sample_file(size_t* data_start = nullptr) {
    AttrSpec a;
    a.ids = {1};
    const RecordWriter w(false, a);
    auto bytes =
        test::file_image(false, {a},
                         {w.comm(1, 1, "a", false, 1), w.mmap2(1, 0x400000, 0x1000, 0, "/bin/a", 2),
                          w.sample({.ip = kK1,
                                    .pid = 1,
                                    .tid = 1,
                                    .time = 3,
                                    .callchain = {test::kCtxKernel, kK1, test::kCtxUser, kU1}}),
                          w.lost(1, 0)},
                         {test::string_feature(false, test::kFeatHostname, "h"),
                          test::event_desc_feature(false, {a}, {"cpu-clock"})});
    if (data_start) {
        uint64_t v;
        std::memcpy(&v, bytes.data() + 40, 8);
        *data_start = v;
    }
    return bytes;
}

ImportOptions no_symbols() {
    ImportOptions o;
    o.kallsyms_path = "/dev/null";
    o.symbolize_user = false;
    return o;
}

TEST(PerfBytesErrors, WrongMagicIsRejected) {
    auto bytes = sample_file();
    bytes[0] = 'X';
    EXPECT_THROW(import_perf_data_bytes(bytes, no_symbols()), TraceError);
    EXPECT_THROW(import_perf_data_bytes(std::vector<uint8_t>{}, no_symbols()), TraceError);
}

TEST(PerfBytesErrors, TruncatedFileNamesTheOffset) {
    size_t data_start = 0;
    auto bytes = sample_file(&data_start);
    bytes.resize(data_start + 20);  // inside the first record
    try {
        import_perf_data_bytes(bytes, no_symbols());
        FAIL() << "a truncated file was accepted";
    } catch (const TraceError& e) {
        EXPECT_GE(e.offset(), data_start);
        EXPECT_LE(e.offset(), bytes.size() + 64);
    }
}

TEST(PerfBytesErrors, ZeroSizeRecordIsAnErrorAtItsOffset) {
    size_t data_start = 0;
    auto bytes = sample_file(&data_start);
    bytes[data_start + 6] = 0;
    bytes[data_start + 7] = 0;
    try {
        import_perf_data_bytes(bytes, no_symbols());
        FAIL() << "a record of size 0 was accepted";
    } catch (const TraceError& e) {
        EXPECT_EQ(e.offset(), data_start);
    }
}

TEST(PerfBytesErrors, CallchainLongerThanItsRecord) {
    AttrSpec a;
    const RecordWriter w(false, a);
    auto rec =
        w.sample({.ip = kK1, .pid = 1, .tid = 1, .time = 3, .callchain = {test::kCtxKernel, kK1}});
    // nr sits after ip, tid, time, cpu, period: make it huge.
    rec[8 + 40 + 6] = 0x7f;
    EXPECT_THROW(import_perf_data_bytes(test::file_image(false, {a}, {rec}, {}), no_symbols()),
                 TraceError);
}

// Whatever prefix or single corrupted byte: an Error or a profile, never a crash (the
// sanitizer build checks the bounds).
TEST(PerfBytesErrors, EveryPrefixAndFlippedByteFailsCleanly) {
    const auto bytes = sample_file();
    for (size_t n = 0; n <= bytes.size(); ++n) {
        try {
            import_perf_data_bytes(std::span(bytes.data(), n), no_symbols());
        } catch (const Error&) {
        }
    }
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto broken = bytes;
        broken[i] ^= 0xa5;
        try {
            import_perf_data_bytes(broken, no_symbols());
        } catch (const Error&) {
        }
    }
}

}  // namespace
}  // namespace kprof
